/**
 * Live cost metering for one attempt. The job appends what it spends to GIGAFACTORY_COST_FILE, one
 * number per line (a file holding one number, the old form, is the same thing: its total). While
 * the job runs the agent reads the file every `intervalMs` and reports the total of its complete
 * lines when it grew: the coordinator folds it into the job's and the product's spend at once, and
 * stops the job at its cost ceiling. At `WARN_FRACTION` of the ceiling the agent writes a notice the
 * job can read (GIGAFACTORY_COST_NOTICE_FILE) and logs it, once.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Share of the ceiling at which the job is warned. */
export const WARN_FRACTION = 0.8;
export const DEFAULT_METER_INTERVAL_MS = 1_000;

export interface CostTotal {
  total: number;
  /** The first line that is not a number >= 0 (a prefix of it), or null. */
  bad: string | null;
}

/**
 * The sum of the file's lines. With `completeOnly` a last line without its newline is left out:
 * the job may be writing it right now.
 */
export function sumCostLines(text: string, completeOnly: boolean): CostTotal {
  const lines = text.split('\n');
  if (completeOnly) lines.pop();
  let total = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const n = Number(line);
    if (!Number.isFinite(n) || n < 0) return { total, bad: line.slice(0, 40) };
    total += n;
  }
  return { total, bad: null };
}

export interface CostMeterOptions {
  costFile: string;
  noticeFile: string;
  /** The job's cost ceiling; 0: none, so no warning. */
  ceiling: number;
  /** Sends the running total (a CostReport on the factory stream). */
  report: (total: number) => void;
  warn: (message: string) => void;
  intervalMs?: number;
}

export class CostMeter {
  #reported = 0;
  #warned = false;
  #timer: NodeJS.Timeout | null;
  #reading = false;

  constructor(private readonly opts: CostMeterOptions) {
    this.#timer = setInterval(() => void this.poll(), opts.intervalMs ?? DEFAULT_METER_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Reads the file once and reports a grown total. Never rejects: a missing file is no cost yet. */
  async poll(): Promise<void> {
    if (this.#reading || this.#timer === null) return;
    this.#reading = true;
    try {
      const { total } = sumCostLines(await readFile(this.opts.costFile, 'utf8').catch(() => ''), true);
      if (this.#timer === null || total <= this.#reported) return;
      this.#reported = total;
      this.opts.report(total);
      const { ceiling } = this.opts;
      if (ceiling > 0 && !this.#warned && total >= WARN_FRACTION * ceiling) {
        this.#warned = true;
        const message = `cost ${total.toFixed(2)} is ${Math.round((total / ceiling) * 100)} % of the job's ceiling ${ceiling.toFixed(2)}; at the ceiling the job is stopped`;
        await writeFile(this.opts.noticeFile, message + '\n').catch(() => {});
        this.opts.warn(message);
      }
    } finally {
      this.#reading = false;
    }
  }

  /** No more reports (the attempt ended: its result carries the final total). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
