/**
 * The SQLite schema as numbered, append-only steps. A released step is never edited: a database
 * records which steps it has applied (schema_migrations) and only later steps run on it, so editing
 * an old step would leave existing databases and new ones with different schemas.
 *
 * Every job column other than `doc` is a projection of the JSON record kept there, denormalised only
 * so the queries the coordinator runs on every tick (runnable, expired leases, listing) use indexes.
 */
export interface Migration {
  /** Increasing in array order; recorded in schema_migrations once applied. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs, events and logs',
    sql: `
      CREATE TABLE jobs (
        id               TEXT    PRIMARY KEY,
        product_id       TEXT    NOT NULL,
        stage            TEXT    NOT NULL,
        priority         INTEGER NOT NULL,
        created_at       INTEGER NOT NULL,
        not_before       INTEGER NOT NULL,
        lease_expires_at INTEGER,
        lease_factory_id TEXT,
        idempotency_key  TEXT    NOT NULL,
        revision         INTEGER NOT NULL,
        epoch            INTEGER NOT NULL,
        doc              TEXT    NOT NULL
      );
      -- listRunnable: stage = 'queued' ORDER BY priority DESC, created_at, id
      CREATE INDEX jobs_runnable ON jobs (stage, priority DESC, created_at, id);
      -- listExpiredLeases and listLeasedTo: only jobs holding a lease are indexed. The WHERE must
      -- match the queries' stage term word for word, or SQLite will not use these partial indexes.
      CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at, id) WHERE stage IN ('leased', 'running');
      CREATE INDEX jobs_lease_factory ON jobs (lease_factory_id, id) WHERE stage IN ('leased', 'running');
      -- listJobs, newest first, with and without a product filter
      CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
      CREATE INDEX jobs_product_created ON jobs (product_id, created_at DESC, id DESC);
      -- idempotent submit: a key is unique within its product; an empty key means "none given"
      CREATE UNIQUE INDEX jobs_idempotency ON jobs (product_id, idempotency_key) WHERE idempotency_key <> '';

      CREATE TABLE events (
        job_id     TEXT    NOT NULL,
        revision   INTEGER NOT NULL,
        product_id TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        doc        TEXT    NOT NULL,
        PRIMARY KEY (job_id, revision)
      ) WITHOUT ROWID;

      -- A rowid table (not WITHOUT ROWID) because chunks can be large blobs.
      CREATE TABLE logs (
        job_id   TEXT    NOT NULL,
        epoch    INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        stream   TEXT    NOT NULL,
        data     BLOB    NOT NULL,
        at       INTEGER NOT NULL,
        PRIMARY KEY (job_id, epoch, sequence)
      );
    `,
  },
  {
    version: 2,
    description: 'per-product settings (scoring weights, fair-share weight)',
    sql: `
      CREATE TABLE product_settings (
        product_id TEXT    PRIMARY KEY,
        revision   INTEGER NOT NULL,
        doc        TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    description: 'credentials: enrollment tokens, enrolled factories, API keys (hashes only)',
    sql: `
      CREATE TABLE enrollment_tokens (
        token_hash TEXT    PRIMARY KEY,
        id         TEXT    NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        doc        TEXT    NOT NULL
      ) STRICT;

      -- A rotated credential is found by its previous token during the overlap, hence two indexes.
      CREATE TABLE factory_credentials (
        factory_id          TEXT    PRIMARY KEY,
        token_hash          TEXT    NOT NULL UNIQUE,
        previous_token_hash TEXT,
        revoked_at          INTEGER,
        revision            INTEGER NOT NULL,
        doc                 TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX factory_credentials_previous ON factory_credentials (previous_token_hash) WHERE previous_token_hash IS NOT NULL;

      -- A name is unique even after revocation, so an event's actor always names one key.
      CREATE TABLE api_keys (
        key_hash   TEXT    PRIMARY KEY,
        name       TEXT    NOT NULL UNIQUE,
        revoked_at INTEGER,
        doc        TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: 'spend: the cost each attempt reported, by product and time (budgets)',
    sql: `
      -- A projection of the jobs' attempts (domain/budget.ts spendOf), written in the same
      -- transaction as the job, so budgets sum a period without reading every job.
      CREATE TABLE spend (
        job_id     TEXT    NOT NULL,
        epoch      INTEGER NOT NULL,
        product_id TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        cost       REAL    NOT NULL,
        title      TEXT    NOT NULL,
        PRIMARY KEY (job_id, epoch)
      ) STRICT;
      CREATE INDEX spend_product_at ON spend (product_id, at);
      CREATE INDEX spend_at ON spend (at);
    `,
  },
  {
    version: 5,
    description: 'echo outbox: tracker webhooks owed for the events of tracked jobs',
    sql: `
      -- One row per event of a job made from a tracker item, written in the event's transaction
      -- (sqlite-echo-outbox.ts). Kept after delivery, so a replayed event is never echoed twice.
      CREATE TABLE echo_outbox (
        job_id     TEXT    NOT NULL,
        revision   INTEGER NOT NULL,
        product_id TEXT    NOT NULL,
        state      TEXT    NOT NULL, -- pending, delivered, dead
        due_at     INTEGER NOT NULL, -- next attempt, or the end of the current claim
        attempts   INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        claim      TEXT    NOT NULL,
        last_error TEXT    NOT NULL,
        doc        TEXT    NOT NULL,
        PRIMARY KEY (job_id, revision)
      ) STRICT;
      CREATE INDEX echo_outbox_due ON echo_outbox (due_at, job_id, revision) WHERE state = 'pending';
      CREATE INDEX echo_outbox_state ON echo_outbox (state, created_at);
    `,
  },
  {
    version: 6,
    description: 'lease-token signing keys',
    sql: `
      -- One row (id = 1): the key ring lease tokens are signed with (sqlite-lease-key-store.ts).
      CREATE TABLE lease_keys (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        revision INTEGER NOT NULL,
        doc      TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 7,
    description: 'schedules: job templates fired at the slots of a cron expression',
    sql: `
      -- One row per schedule; the doc is the record (domain/schedule.ts), replaced with
      -- compare-and-set on revision so the slot cursor moves once however many replicas tick.
      CREATE TABLE schedules (
        id         TEXT    PRIMARY KEY,
        product_id TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        revision   INTEGER NOT NULL,
        doc        TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX schedules_created ON schedules (created_at, id);
    `,
  },
  {
    version: 8,
    description: 'artifacts: files attached to job attempts, and uploads in progress',
    sql: `
      -- One row per file attached to an attempt (domain/artifact.ts); the bytes are a blob named
      -- by sha256 (store/blobs/), shared by every row with the same digest.
      CREATE TABLE artifacts (
        job_id       TEXT    NOT NULL,
        epoch        INTEGER NOT NULL,
        kind         TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        product_id   TEXT    NOT NULL,
        size_bytes   INTEGER NOT NULL,
        sha256       TEXT    NOT NULL,
        content_type TEXT    NOT NULL,
        factory_id   TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (job_id, epoch, kind, name)
      ) STRICT;
      CREATE INDEX artifacts_product_created ON artifacts (product_id, created_at);
      CREATE INDEX artifacts_sha256 ON artifacts (sha256);
      -- What StartUpload declared, until FinishUpload attaches it (or the reaper abandons it).
      CREATE TABLE artifact_uploads (
        upload_id  TEXT    PRIMARY KEY,
        created_at INTEGER NOT NULL,
        doc        TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX artifact_uploads_created ON artifact_uploads (created_at);
    `,
  },
  {
    version: 9,
    description: 'dispatch-rate buckets: per-product token buckets for dispatch rate limits',
    sql: `
      -- One row per rate-limited product; the doc is the bucket (domain/dispatch-rate.ts), replaced
      -- with compare-and-set on revision so every start is counted once.
      CREATE TABLE dispatch_buckets (
        product_id TEXT    PRIMARY KEY,
        revision   INTEGER NOT NULL,
        doc        TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 10,
    description: 'placement decisions and their outcomes, for evaluating scoring weights',
    sql: `
      -- One row per attempt (job, epoch): the signals the placement was scored on and, once the
      -- attempt ends, its outcome (sqlite-decision-store.ts). Kept to the newest rows per product.
      CREATE TABLE placement_decisions (
        job_id     TEXT    NOT NULL,
        epoch      INTEGER NOT NULL,
        product_id TEXT    NOT NULL,
        decided_at INTEGER NOT NULL,
        doc        TEXT    NOT NULL,
        outcome    TEXT,
        PRIMARY KEY (job_id, epoch)
      ) STRICT;
      CREATE INDEX placement_decisions_product ON placement_decisions (product_id, decided_at);
    `,
  },
];

/** The newest schema this build understands. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.at(-1)!.version;
