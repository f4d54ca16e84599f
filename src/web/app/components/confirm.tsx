/**
 * A button that opens a small confirmation (with an optional or required reason) before an action
 * that changes the fleet: cancel, requeue, ship or reject a job, drain or revoke a factory, pause a
 * budget. Disabled, with a tooltip naming the role needed, when the signed-in key's role may not
 * call the action's RPC. Failures stay in the popover as sentences.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../errors.js';
import { GuardedButton } from './guarded.js';
import { ErrorBanner } from './ui.js';

export interface ConfirmActionProps {
  /** The button's text, and the confirm button's unless `confirmLabel` is given. */
  label: string;
  /** The popover's heading; also its accessible name. */
  title: string;
  description: ComponentChildren;
  confirmLabel?: string;
  /** Asks for a reason (recorded by the coordinator) when set: its placeholder. */
  reasonPlaceholder?: string;
  /** The action cannot go ahead without a reason: the sentence saying so. */
  reasonRequired?: string;
  /** The RPC the action calls, "Service/Method": the button is disabled for roles that may not. */
  rpc: string;
  /** What the action does, for error sentences ("cancel the job"). */
  doing: string;
  danger?: boolean;
  /** The page's main action (ship a reviewed job): a filled button. */
  primary?: boolean;
  small?: boolean;
  disabled?: boolean;
  busyLabel?: string;
  onConfirm(reason: string): Promise<void>;
}

export function ConfirmAction(props: ConfirmActionProps): JSX.Element {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const size = props.small ? ' button-small' : '';

  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (props.reasonRequired && !reason.trim()) {
      setError(props.reasonRequired);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(reason.trim());
      setOpen(false);
      setReason('');
    } catch (err) {
      setError(describeError(err, props.doing));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="action">
      <GuardedButton
        rpc={props.rpc}
        class={`button ${props.danger ? 'button-danger-outline' : props.primary ? 'button-primary' : 'button-secondary'}${size}`}
        onClick={() => {
          setOpen(true);
          setError(null);
        }}
        disabled={props.disabled}
      >
        {props.busyLabel && props.disabled ? props.busyLabel : props.label}
      </GuardedButton>
      {open && (
        <form class="confirm" onSubmit={(e) => void confirm(e)} aria-label={props.title} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <div class="confirm-title">{props.title}</div>
          <div class="confirm-text">{props.description}</div>
          {props.reasonPlaceholder !== undefined && (
            <input
              class="input"
              name="reason"
              placeholder={props.reasonPlaceholder}
              value={reason}
              onInput={(e) => {
                setReason(e.currentTarget.value);
                if (props.reasonRequired && error === props.reasonRequired) setError(null);
              }}
              aria-required={Boolean(props.reasonRequired)}
              autoFocus
            />
          )}
          <ErrorBanner message={error} />
          <div class="form-buttons">
            <button type="button" class="button button-ghost" onClick={() => setOpen(false)} disabled={busy}>
              Keep it
            </button>
            <button type="submit" class={`button ${props.danger ? 'button-danger' : 'button-primary'}`} disabled={busy}>
              {busy ? 'Working…' : (props.confirmLabel ?? props.label)}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
