/**
 * The coordinator's parts wired together over one store. It knows nothing of transports: the
 * servers call into it, and it calls the store.
 */
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { Fleet, type ScaleOutSettings } from './fleet.js';
import type { FleetObserver } from './fleet-observer.js';
import { FleetView } from './fleet-view.js';
import type { Scheduling } from './scheduling.js';
import type { LeaseKeys } from './lease-keys.js';
import { JobFeed } from './job-feed.js';
import { JobWatch } from './job-watch.js';
import { Jobs } from './jobs.js';
import type { FleetSettings } from './lease-settings.js';
import { LogTail } from './log-tail.js';
import { OpenStreams, type FollowerSettings } from './open-streams.js';
import { TrackerIngest } from './tracker-ingest.js';
import { Workflows } from './workflows.js';
import { Schedules } from './schedules.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import type { JobRecord } from '../domain/job.js';
import type { PartitionOwner } from './partition-owner.js';
import { ownedQueue } from './runnable-source.js';
import { MemoryScheduleStore } from '../store/memory/memory-schedule-store.js';
import type { DecisionStore } from '../store/decision-store.js';
import { WeightsReview } from './weights-review.js';

/**
 * A replica dividing the work with others (Cosmos; docs/scaling-out.md): its partition owner, and
 * the store's listing of one set of partitions' runnable jobs.
 */
export interface DividedWork {
  owner: Pick<PartitionOwner, 'claimable' | 'newJobId'>;
  listRunnableIn(partitions: readonly number[], now: number, limit: number): Promise<JobRecord[]>;
}

/** How often the schedule ticker looks for due slots: a run starts at most this late. */
const SCHEDULE_TICK_MS = 1_000;

export class Coordinator {
  readonly feed = new JobFeed();
  readonly jobs: Jobs;
  readonly watch: JobWatch;
  readonly logs: LogTail;
  readonly fleet: Fleet;
  readonly fleetView: FleetView;
  readonly workflows: Workflows;
  readonly tracker: TrackerIngest;
  readonly schedules: Schedules;
  /** Offline evaluation of scoring weights on recorded placements, and A/B experiments. */
  readonly weights: WeightsReview;
  /** WatchJobs and TailLogs calls: bounded per API key, ended at shutdown or when their key is revoked. */
  readonly streams: OpenStreams;

  constructor(
    readonly store: JobStore,
    readonly clock: Clock,
    settings: FleetSettings & FollowerSettings,
    log: Logger,
    observer?: FleetObserver,
    scheduling?: Scheduling,
    leaseKeys?: LeaseKeys,
    scheduleStore: ScheduleStore = new MemoryScheduleStore(),
    decisionStore?: DecisionStore,
    divided?: DividedWork,
  ) {
    this.streams = new OpenStreams(settings.maxStreamsPerKey);
    const runnable = divided ? ownedQueue({ claimable: () => divided.owner.claimable(), listRunnableIn: (p, now, limit) => divided.listRunnableIn(p, now, limit), listRunnable: (now, limit) => store.listRunnable(now, limit) }) : undefined;
    this.fleet = new Fleet({ store, feed: this.feed, clock, settings, log, ...(observer ? { observer } : {}), ...(scheduling ? { scheduling } : {}), ...(leaseKeys ? { leaseKeys } : {}), ...(decisionStore ? { decisionStore } : {}), ...(runnable ? { runnable } : {}) });
    const products = this.fleet.scheduling;
    this.jobs = new Jobs(store, this.feed, clock, this.fleet.dispatch.submitClaimer, (productId) => products.productSettings(productId).reviewPolicy ?? null, divided ? (now) => divided.owner.newJobId(now) : undefined);
    // Over a shared store (replicas), one job's watch and log tail poll the store: see store-poll.ts.
    const shared = (settings as FleetSettings & ScaleOutSettings).sharedStore === true;
    this.watch = new JobWatch(this.jobs, store, this.feed, shared);
    this.logs = new LogTail(this.jobs, store, this.feed, shared);
    this.fleetView = new FleetView(this.fleet, store, clock);
    this.workflows = new Workflows(this.jobs, store, this.feed, clock, log, Math.max(500, settings.reaperIntervalMs * 5));
    this.fleet.attach(this.workflows); // started and stopped with the fleet
    this.tracker = new TrackerIngest(this.jobs, clock);
    this.schedules = new Schedules(scheduleStore, this.jobs, clock, log, SCHEDULE_TICK_MS);
    this.fleet.attach(this.schedules);
    this.weights = new WeightsReview(this.fleet.scheduling, this.fleet.decisions, clock);
  }
}
