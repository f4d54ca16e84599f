/**
 * `gigafactory top`: the fleet live, like htop. A snapshot from ListFactories and ListJobs, then
 * WatchJobs events move the jobs and ListFactories is read again every --refresh seconds (the
 * factories' slots and heartbeats are not events). The watch is opened before the snapshot is read,
 * so a change between the two is not lost; when the watch breaks, top says so, opens it again with
 * back-off and reads a fresh snapshot, since events were missed in between. `--once` prints one
 * frame of the snapshot and exits.
 */
import { toJson, type JsonValue } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { ConnectError } from '@connectrpc/connect';
import type { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactorySchema } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { JobSchema, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { explainedCallError, isRefusal } from './call-errors.js';
import { adminClient } from './admin-client.js';
import { jobClient } from './client.js';
import type { CliContext } from './context.js';
import { print } from './format-text.js';
import { renderFrame, type FrameView } from './top-frame.js';
import { pressKey, splitKeys, type KeyState } from './top-keys.js';
import { ACTIVE_STAGES, FAILED_STAGES, FAILURE_WINDOW_MS, ms, TopModel } from './top-model.js';
import { PlainFrames, TerminalScreen, type FrameSink } from './top-screen.js';

export interface TopOptions {
  once: boolean;
  /** Seconds between factory reads (and, without a terminal, between frames at most). */
  refresh: number;
  /** The product filter to start with. */
  product?: string;
}

/** On a terminal, frames are drawn at most this often (keys and events ask for one each). */
const TERMINAL_FRAME_GAP_MS = 250;
/** The terminal's clock and ages move once a second. */
const CLOCK_TICK_MS = 1000;
const PAGE_SIZE = 500;
/** The snapshot reads at most this many pages of waiting and running jobs, and of failures. */
const MAX_ACTIVE_PAGES = 10;
const MAX_FAILED_PAGES = 4;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15_000;

interface Clients {
  jobs: Client<typeof JobService>;
  admin: Client<typeof AdminService>;
}

export async function top(ctx: CliContext, opts: TopOptions): Promise<void> {
  const address = ctx.coordinator();
  const sec = ctx.security();
  const clients = { jobs: jobClient(address, sec), admin: adminClient(address, sec) };
  const explain = (err: unknown): unknown => explainedCallError(err, address, Boolean(sec.key));
  const out = process.stdout;
  const size = (): { width: number; height: number | null } => terminalSize(out);
  if (opts.once) {
    const model = await load(clients, new TopModel()).catch((err: unknown) => {
      throw explain(err);
    });
    const now = Date.now();
    const filter = opts.product ?? '';
    if (ctx.json()) return print(snapshotJson(model, now, filter));
    const view: FrameView = { coordinator: address, status: 'snapshot', ...size(), focus: null, filter, editing: null, keys: false };
    out.write(renderFrame(model, now, view).join('\n') + '\n');
    return;
  }
  await new LiveTop(clients, address, opts, explain, size).run();
}

/** What one frame shows, for scripts: the summary and the panels' rows, factories and jobs as the API's JSON. */
function snapshotJson(model: TopModel, now: number, filter: string): JsonValue {
  return {
    fleet: { ...model.summary(now, filter), capped: model.capped },
    products: model.products(now, filter).map((row) => ({ ...row })),
    factories: model.factories.map((f) => toJson(FactorySchema, f)),
    running: model.running(filter).map((j) => toJson(JobSchema, j)),
  };
}

/** Columns and rows: the terminal's, else COLUMNS and LINES, else 80 columns and every row. */
function terminalSize(out: NodeJS.WriteStream): { width: number; height: number | null } {
  if (out.isTTY) return { width: out.columns, height: out.rows };
  const positive = (text: string | undefined): number | null => (text && /^[1-9]\d*$/.test(text) ? Number(text) : null);
  return { width: positive(process.env.COLUMNS) ?? 80, height: positive(process.env.LINES) };
}

/** The snapshot, into `model`: the factories, the jobs that wait or run, the failures of the hour. */
async function load(clients: Clients, model: TopModel): Promise<TopModel> {
  const now = Date.now();
  const [factories, activeCapped] = await Promise.all([
    clients.admin.listFactories({}),
    scan(clients.jobs, [...ACTIVE_STAGES], MAX_ACTIVE_PAGES, (job) => {
      model.take(job, now);
      return true;
    }),
    scan(clients.jobs, [...FAILED_STAGES], MAX_FAILED_PAGES, (job) => {
      model.take(job, now);
      // Newest first by creation: a job created a day ago is very unlikely to have ended this hour.
      return (ms(job.createTime) ?? now) >= now - 24 * FAILURE_WINDOW_MS;
    }),
  ]);
  model.factories = factories.factories;
  model.capped = activeCapped;
  return model;
}

/** Pages through ListJobs; `take` returns false to stop early. Resolves true when capped. */
async function scan(jobs: Client<typeof JobService>, stages: Job['stage'][], maxPages: number, take: (job: Job) => boolean): Promise<boolean> {
  let pageToken = '';
  for (let page = 0; page < maxPages; page++) {
    const res = await jobs.listJobs({ stages, pageSize: PAGE_SIZE, pageToken });
    let more = true;
    for (const job of res.jobs) more = take(job) && more;
    if (!res.nextPageToken || !more) return false;
    pageToken = res.nextPageToken;
  }
  return true;
}

/** One live session: the model, the screen, the keys, the timers; run() resolves when the user quits. */
class LiveTop {
  private model = new TopModel();
  private status = 'loading';
  private keys: KeyState;
  private readonly stop = new AbortController();
  private readonly sink: FrameSink;
  private readonly reading: boolean;
  private frameTimer: NodeJS.Timeout | null = null;
  private lastFrame = 0;
  private readonly frameGapMs: number;

  constructor(
    private readonly clients: Clients,
    private readonly address: string,
    private readonly opts: TopOptions,
    private readonly explain: (err: unknown) => unknown,
    private readonly size: () => { width: number; height: number | null },
  ) {
    this.keys = { focus: null, filter: opts.product ?? '', editing: null };
    const terminal = Boolean(process.stdout.isTTY);
    this.sink = terminal ? new TerminalScreen(process.stdout) : new PlainFrames(process.stdout);
    this.frameGapMs = terminal ? TERMINAL_FRAME_GAP_MS : opts.refresh * 1000;
    this.reading = Boolean(process.stdin.readable);
  }

  async run(): Promise<void> {
    const ended = new Promise<void>((resolve, reject) => {
      this.quit = resolve;
      this.fail = reject;
    });
    const watching = this.watch();
    const timers = [setInterval(() => void this.readFactories(), this.opts.refresh * 1000)];
    if (process.stdout.isTTY) timers.push(setInterval(() => this.requestFrame(), CLOCK_TICK_MS));
    const onKeys = (chunk: string): void => this.onKeys(chunk);
    const onResize = (): void => {
      this.sink.invalidate();
      this.requestFrame();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      this.end();
      process.exitCode = signal === 'SIGINT' ? 130 : 143;
      this.quit();
    };
    if (this.reading) {
      if (process.stdin.isTTY) process.stdin.setRawMode(true);
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', onKeys);
    }
    process.stdout.on('resize', onResize);
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    try {
      await ended;
    } finally {
      this.end();
      for (const timer of timers) clearInterval(timer);
      if (this.frameTimer) clearTimeout(this.frameTimer);
      if (this.reading) {
        process.stdin.off('data', onKeys);
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
      }
      process.stdout.off('resize', onResize);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      await watching;
    }
  }

  private quit: () => void = () => {};
  private fail: (err: unknown) => void = () => {};

  private end(): void {
    this.stop.abort();
    this.sink.close();
  }

  /**
   * Follows WatchJobs for as long as top runs: each (re)connection opens the watch, reads a fresh
   * snapshot into a new model while its events queue up, swaps it in, then applies events as they
   * come. The first snapshot's failure, and any refusal of the key, end top with the error.
   */
  private async watch(): Promise<void> {
    let delay = RETRY_FIRST_MS;
    let loaded = false;
    while (!this.stop.signal.aborted) {
      // Ended with this attempt, so a broken watch never lingers beside the next one.
      const call = new AbortController();
      try {
        const events = this.clients.jobs.watchJobs({}, { signal: AbortSignal.any([this.stop.signal, call.signal]) })[Symbol.asyncIterator]();
        // Read from now on, so the events of the load's time queue up (and a failure of the call
        // during the load is the loop's to handle, not an unhandled rejection).
        const first = events.next();
        first.catch(() => {});
        this.model = await load(this.clients, new TopModel());
        loaded = true;
        this.status = 'live';
        delay = RETRY_FIRST_MS;
        this.requestFrame();
        for (let next = await first; !next.done; next = await events.next()) {
          const { event } = next.value;
          if (event && this.model.apply(event, Date.now())) this.requestFrame();
        }
        if (this.stop.signal.aborted) return;
        this.status = 'the coordinator ended the watch';
      } catch (err) {
        if (this.stop.signal.aborted) return;
        if (!loaded || isRefusal(err)) return this.fail(this.explain(err));
        this.status = `watch lost (${describe(err)})`;
      } finally {
        call.abort();
      }
      this.status += `; retrying in ${Math.round(delay / 1000)}s`;
      this.requestFrame();
      await sleep(delay, this.stop.signal);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  private factoriesInFlight = false;

  private async readFactories(): Promise<void> {
    if (this.factoriesInFlight || this.status !== 'live') return;
    this.factoriesInFlight = true;
    try {
      this.model.factories = (await this.clients.admin.listFactories({}, { signal: this.stop.signal })).factories;
      this.model.prune(Date.now());
    } catch (err) {
      if (this.stop.signal.aborted) return;
      if (isRefusal(err)) return this.fail(this.explain(err));
      // Shown until the next read succeeds (the watch's own status comes back with it).
      this.status = `live; factories not read (${describe(err)})`;
    } finally {
      this.factoriesInFlight = false;
    }
    this.requestFrame();
  }

  private onKeys(chunk: string): void {
    for (const key of splitKeys(chunk)) {
      const next = pressKey(this.keys, key);
      if (next === 'quit') return this.quit();
      this.keys = next;
    }
    this.requestFrame();
  }

  /** Draws a frame soon: at once when the last one is old enough, else when it will be. */
  private requestFrame(): void {
    if (this.frameTimer || this.stop.signal.aborted) return;
    const wait = Math.max(0, this.lastFrame + this.frameGapMs - Date.now());
    this.frameTimer = setTimeout(() => {
      this.frameTimer = null;
      this.lastFrame = Date.now();
      this.draw();
    }, wait);
  }

  private draw(): void {
    if (this.stop.signal.aborted) return;
    const view: FrameView = { coordinator: this.address, status: this.status, ...this.size(), ...this.keys, keys: this.reading };
    this.sink.show(renderFrame(this.model, Date.now(), view));
  }
}

function describe(err: unknown): string {
  return err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
