/**
 * Who the signed-in key is (AdminService.GetCaller: name, role, and the role each RPC needs), so
 * pages can disable the buttons the key's role does not allow, with a tooltip naming the role
 * needed, instead of letting the coordinator refuse the click. Read again whenever the key changes.
 * Until it is known (or when the coordinator cannot say) every action stays enabled: the
 * coordinator still decides, and its refusal is shown as a sentence.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiKeyRole } from '../../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import type { GetCallerResponse } from '../../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { adminService } from './rpc.js';
import { session } from './session.js';

export const ROLE_NAMES: Record<ApiKeyRole, string> = {
  [ApiKeyRole.UNSPECIFIED]: 'unknown',
  [ApiKeyRole.VIEWER]: 'viewer',
  [ApiKeyRole.OPERATOR]: 'operator',
  [ApiKeyRole.ADMIN]: 'admin',
};

type Listener = () => void;

class CallerStore {
  caller: GetCallerResponse | null = null;
  private readonly listeners = new Set<Listener>();
  private loadedFor: string | null | undefined = undefined;
  private abort: AbortController | null = null;

  constructor() {
    session.subscribe(() => this.refresh());
  }

  /** Reads the caller once per key (sign-in, sign-out and a refused key change it). */
  refresh(): void {
    const key = session.apiKey();
    if (session.refusal) {
      // The key was refused: nobody is signed in until the next sign-in.
      this.abort?.abort();
      this.loadedFor = undefined;
      if (this.caller) this.set(null);
      return;
    }
    if (key === this.loadedFor) return;
    this.loadedFor = key;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.set(null);
    adminService.getCaller({}, { signal: abort.signal }).then(
      (caller) => {
        if (!abort.signal.aborted) this.set(caller);
      },
      () => {
        // Unknown caller: actions stay enabled and the coordinator's answer decides. Try again
        // with the next key change.
        if (!abort.signal.aborted) this.loadedFor = undefined;
      },
    );
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(caller: GetCallerResponse | null): void {
    this.caller = caller;
    for (const listener of [...this.listeners]) listener();
  }
}

export const callerStore = new CallerStore();

export function useCaller(): GetCallerResponse | null {
  const [caller, setCaller] = useState(callerStore.caller);
  useEffect(() => {
    callerStore.refresh();
    setCaller(callerStore.caller);
    return callerStore.subscribe(() => setCaller(callerStore.caller));
  }, []);
  return caller;
}

/** Why the signed-in key may not call `rpc` ("Service/Method"), as a tooltip; null when it may (or nobody knows). */
export function refusalFor(caller: GetCallerResponse | null, rpc: string): string | null {
  if (!caller) return null;
  const needed = caller.requiredRoles[rpc];
  if (needed === undefined || caller.role >= needed) return null;
  const role = ROLE_NAMES[caller.role];
  return `Needs the ${ROLE_NAMES[needed]} role; the key "${caller.name}" is ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}.`;
}

/** `refusalFor` for the signed-in key, kept current. */
export function useRefusal(rpc: string): string | null {
  return refusalFor(useCaller(), rpc);
}
