/** What every store over the control container shares: its documents, and closing once. */
import { StoreClosed } from '../store-errors.js';
import type { ControlDocs } from './control.js';

export abstract class ControlStore {
  #closed = false;

  constructor(protected readonly docs: ControlDocs) {}

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.docs.release();
  }

  protected assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}
