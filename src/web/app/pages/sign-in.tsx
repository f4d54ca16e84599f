/**
 * Sign in with an API key. The key stays in this tab's sessionStorage and goes with every call as
 * `Authorization: Bearer`. A coordinator without authentication ignores it.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { jobEvents } from '../events.js';
import { keyHint, session } from '../session.js';
import { navigate } from '../router.js';
import { Logo } from '../components/logo.js';

export function SignInPage({ next }: { next: string }): JSX.Element {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const current = session.apiKey();

  const submit = (event: Event): void => {
    event.preventDefault();
    if (!key.trim()) {
      setError('Paste the API key you were given.');
      return;
    }
    session.signIn(key);
    jobEvents.restart();
    navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/');
  };

  return (
    <div class="sign-in">
      <form class="sign-in-card" onSubmit={submit} aria-label="Sign in">
        <div class="sign-in-brand">
          <Logo size={36} />
          <div>
            <div class="sign-in-name">Gigafactory</div>
            <div class="muted small">Fleet control plane</div>
          </div>
        </div>
        <h1 class="sign-in-title">Sign in with an API key</h1>
        {session.refusal && (
          <div class="banner banner-warn" role="alert">
            {session.refusal}
          </div>
        )}
        <label class="field">
          <span class="field-label">API key</span>
          <input class="input mono" type="password" name="apiKey" autocomplete="off" spellcheck={false} value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="gfk_…" autoFocus />
          {error && <span class="field-error">{error}</span>}
        </label>
        <button type="submit" class="button button-primary button-block">
          Sign in
        </button>
        <p class="muted small sign-in-note">
          The key is kept in this browser tab only and sent with each request to the coordinator. Closing the tab forgets it.
          {current && !session.refusal ? ` This tab now uses the key ${keyHint(current)}.` : ''}
        </p>
      </form>
    </div>
  );
}
