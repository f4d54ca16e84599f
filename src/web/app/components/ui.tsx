/** Small building blocks shared by the pages. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { JobStage, AttemptOutcome } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { absoluteTime, OUTCOMES, relativeTime, STAGES } from '../format.js';

export function StageBadge({ stage, large }: { stage: JobStage; large?: boolean }): JSX.Element {
  const info = STAGES[stage];
  return (
    <span class={`badge stage-${info.tone}${large ? ' badge-large' : ''}`} data-stage={info.tone}>
      <span class="badge-dot" />
      {info.label}
    </span>
  );
}

export function OutcomeBadge({ outcome }: { outcome: AttemptOutcome }): JSX.Element {
  const info = OUTCOMES[outcome];
  return (
    <span class={`badge stage-${info.tone}`}>
      <span class="badge-dot" />
      {info.label}
    </span>
  );
}

export function Chips({ items, empty = '—', tone }: { items: readonly string[]; empty?: string; tone?: string }): JSX.Element {
  if (!items.length) return <span class="muted">{empty}</span>;
  return (
    <span class="chips">
      {items.map((item) => (
        <span class={`chip${tone ? ` chip-${tone}` : ''}`} key={item}>
          {item}
        </span>
      ))}
    </span>
  );
}

/** Re-renders the caller every `intervalMs` with the current time. */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * A time relative to `now`. Something that already happened (the default) never reads "in 7 s":
 * `now` ticks coarsely (every 10 s on some pages) and the browser's clock may lag the
 * coordinator's, so a fresh event can look a little in the future. Pass `future` for deadlines.
 */
export function When({ at, now, future }: { at: number | null; now: number; future?: boolean }): JSX.Element {
  if (at === null) return <span class="muted">—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={absoluteTime(at)}>
      {relativeTime(future ? at : Math.min(at, now), now)}
    </time>
  );
}

export function ErrorBanner({ message, onRetry }: { message: string | null; onRetry?: () => void }): JSX.Element | null {
  if (!message) return null;
  return (
    <div class="banner banner-error" role="alert">
      <svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path fill="currentColor" d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-.9 4h1.8v5.2H9.1V6Zm0 6.6h1.8v1.8H9.1v-1.8Z" />
      </svg>
      <span>{message}</span>
      {onRetry && (
        <button type="button" class="button button-small button-ghost" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The last row of a form: what went wrong, Cancel and the submit button (`children` go first). */
export function FormActions({ error, busy, label, busyLabel, onCancel, children }: { error: string | null; busy: boolean; label: string; busyLabel: string; onCancel: () => void; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="form-actions field-span-4">
      {children}
      <ErrorBanner message={error} />
      <div class="form-buttons">
        <button type="button" class="button button-ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? busyLabel : label}
        </button>
      </div>
    </div>
  );
}

/** What an action just did, until dismissed. */
export function SuccessNotice({ message, onDismiss }: { message: string | null; onDismiss: () => void }): JSX.Element | null {
  if (!message) return null;
  return (
    <div class="banner banner-success" role="status">
      {message}
      <button type="button" class="link-button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="empty">
      <div class="empty-title">{title}</div>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

export function Panel({ title, aside, children, class: cls, id }: { title?: ComponentChildren; aside?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }): JSX.Element {
  return (
    <section class={`panel${cls ? ` ${cls}` : ''}`} id={id}>
      {(title || aside) && (
        <header class="panel-header">
          <h2 class="panel-title">{title}</h2>
          {aside && <div class="panel-aside">{aside}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: ComponentChildren; subtitle?: ComponentChildren; actions?: ComponentChildren }): JSX.Element {
  return (
    <header class="page-header">
      <div>
        <h1 class="page-title">{title}</h1>
        {subtitle && <p class="page-subtitle">{subtitle}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

export function Meter({ used, total, label }: { used: number; total: number; label?: string }): JSX.Element {
  const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
  return (
    <div class="meter" role="meter" aria-valuemin={0} aria-valuemax={total} aria-valuenow={used} aria-label={label ?? 'slots in use'}>
      <div class="meter-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Spinner(): JSX.Element {
  return <span class="spinner" aria-label="loading" />;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const copy = (): void => {
    void navigator.clipboard?.writeText(text).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1_200);
    });
  };
  return (
    <button type="button" class="icon-button" title={copied ? 'Copied' : label} aria-label={label} onClick={copy}>
      {copied ? (
        <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="m8 13.2-3.5-3.5L3.1 11 8 16l9-9-1.4-1.4z" /></svg>
      ) : (
        <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M7 3h8a2 2 0 0 1 2 2v8h-2V5H7V3Zm-2 4h8a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2Zm0 2v7h8V9H5Z" /></svg>
      )}
    </button>
  );
}

/** A secret the coordinator shows once (it keeps only a hash): the value, a copy button, a warning. */
export function SecretOnce({ what, value, copyLabel, dataAttr }: { what: string; value: string; copyLabel: string; dataAttr: string }): JSX.Element {
  return (
    <>
      <div class="banner banner-warn">Copy it now: this {what} is shown once. The coordinator keeps only its hash.</div>
      <div class="secret">
        <code class="secret-value" {...{ [`data-${dataAttr}`]: true }}>{value}</code>
        <CopyButton text={value} label={copyLabel} />
      </div>
    </>
  );
}
