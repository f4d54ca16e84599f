/**
 * The operator's API key, kept for this browser tab only (sessionStorage), and whether the
 * coordinator refused it. Sent as `Authorization: Bearer` by the interceptor in rpc.ts.
 */
const STORAGE_KEY = 'gigafactory.apiKey';

type Listener = () => void;

class Session {
  private readonly listeners = new Set<Listener>();
  /** Why the coordinator turned us away (no key, or a key it does not accept), until the next sign-in. */
  refusal: string | null = null;

  apiKey(): string | null {
    try {
      return sessionStorage.getItem(STORAGE_KEY);
    } catch {
      return null; // storage disabled: behave as signed out
    }
  }

  signIn(key: string): void {
    sessionStorage.setItem(STORAGE_KEY, key.trim());
    this.refusal = null;
    this.emit();
  }

  signOut(): void {
    sessionStorage.removeItem(STORAGE_KEY);
    this.refusal = null;
    this.emit();
  }

  refused(reason: string): void {
    if (this.refusal === reason) return;
    this.refusal = reason;
    this.emit();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export const session = new Session();

/** The last characters of a key, enough to tell keys apart without showing one. */
export function keyHint(key: string): string {
  return key.length <= 4 ? '••••' : `••••${key.slice(-4)}`;
}
