/**
 * What a key does in `gigafactory top`: q (or Ctrl-C) quits, p f j show one panel alone (the same
 * key again shows all), / types a product filter (Enter applies it, an empty one clears it, Esc
 * cancels). Pure, so every key is tested without a terminal.
 */
import type { Panel } from './top-frame.js';

export interface KeyState {
  focus: Panel | null;
  filter: string;
  /** The filter being typed after /, or null. */
  editing: string | null;
}

const FOCUS_KEYS: Record<string, Panel> = { p: 'products', f: 'factories', j: 'jobs' };
const CTRL_C = '\u0003';
const ESC = '\u001b';

/** The state after `key`, or 'quit'. Keys that mean nothing leave the state as it is. */
export function pressKey(state: KeyState, key: string): KeyState | 'quit' {
  if (key === CTRL_C) return 'quit';
  if (state.editing !== null) {
    if (key === '\r' || key === '\n') return { ...state, filter: state.editing.trim(), editing: null };
    if (key === ESC) return { ...state, editing: null };
    if (key === '\u007f' || key === '\b') return { ...state, editing: [...state.editing].slice(0, -1).join('') };
    return key.length > 0 && !/[\u0000-\u001f\u007f-\u009f]/.test(key) && !key.startsWith(ESC) ? { ...state, editing: state.editing + key } : state;
  }
  if (key === 'q' || key === 'Q') return 'quit';
  if (key === '/') return { ...state, editing: state.filter };
  if (key === ESC) return { ...state, focus: null };
  const panel = FOCUS_KEYS[key.toLowerCase()];
  if (panel) return { ...state, focus: state.focus === panel ? null : panel };
  return state;
}

/** A chunk read from the terminal as keys: one per character, an escape sequence (an arrow) as one. */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < chunk.length; ) {
    const sequence = /^\u001b(?:\[[0-9;?]*[@-~]|O.)/.exec(chunk.slice(i));
    const key = sequence ? sequence[0] : String.fromCodePoint(chunk.codePointAt(i)!);
    keys.push(key);
    i += key.length;
  }
  return keys;
}
