/**
 * Buttons for actions a role may not take: disabled when the signed-in key's role is too weak, with
 * a tooltip naming the role needed (on the wrapper too, since a disabled button gets no hover).
 */
import type { ComponentChildren, JSX } from 'preact';
import { useRefusal } from '../caller.js';

export interface GuardedButtonProps {
  /** The RPC the button calls, "Service/Method" (AdminService.GetCaller's keys). */
  rpc: string;
  class: string;
  onClick(): void;
  disabled?: boolean | undefined;
  title?: string | undefined;
  'aria-expanded'?: boolean | undefined;
  children: ComponentChildren;
}

export function GuardedButton({ rpc, class: cls, onClick, disabled, title, children, 'aria-expanded': expanded }: GuardedButtonProps): JSX.Element {
  const refusal = useRefusal(rpc);
  return (
    <span class="guarded" title={refusal ?? title} data-refused={refusal ? 'true' : undefined}>
      <button type="button" class={cls} onClick={onClick} disabled={Boolean(refusal) || disabled} title={refusal ?? title} aria-expanded={expanded}>
        {children}
      </button>
    </span>
  );
}
