/**
 * Schema migrations, applied in order; the database's `PRAGMA user_version` is the number of
 * entries already applied. Never edit an applied entry: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    process_id   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('accepted', 'running', 'successful', 'failed', 'dismissed')),
    owner        TEXT NOT NULL,
    agent        TEXT,
    inputs       TEXT NOT NULL CHECK (json_valid(inputs)),
    execution    TEXT NOT NULL CHECK (json_valid(execution)),
    progress     REAL NOT NULL DEFAULT 0,
    message      TEXT,
    created      TEXT NOT NULL,
    started      TEXT,
    finished     TEXT,
    updated      TEXT NOT NULL,
    results      TEXT CHECK (results IS NULL OR json_valid(results)),
    error        TEXT CHECK (error IS NULL OR json_valid(error)),
    last_seq     INTEGER NOT NULL DEFAULT 0,
    dismissed_by TEXT
  ) STRICT;
  CREATE INDEX jobs_created ON jobs (created, id);
  CREATE INDEX jobs_status ON jobs (status, created);
  CREATE INDEX jobs_process ON jobs (process_id, created);
  CREATE INDEX jobs_owner ON jobs (owner, created);
  CREATE INDEX jobs_agent ON jobs (agent, created);

  CREATE TABLE agents (
    jid       TEXT PRIMARY KEY,
    last_seen TEXT NOT NULL
  ) STRICT;
  `,
  // SHA-256 of the job's upload token; the token itself is known only to the agent running the job.
  `ALTER TABLE jobs ADD COLUMN upload_token_hash BLOB;`,
  // Bearer tokens are kept as their SHA-256 only; limits left NULL follow the configured defaults.
  `
  CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    created     TEXT NOT NULL,
    max_running INTEGER CHECK (max_running IS NULL OR max_running >= 1),
    max_waiting INTEGER CHECK (max_waiting IS NULL OR max_waiting >= 0)
  ) STRICT;

  CREATE TABLE tokens (
    id        TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (name),
    hash      BLOB NOT NULL UNIQUE,
    label     TEXT,
    created   TEXT NOT NULL,
    revoked   TEXT
  ) STRICT;
  CREATE INDEX tokens_user ON tokens (user_name, created);
  `,
  // Accounts provisioned as agents, with their pool; and which pool owns each process id
  // (docs/security.md, who may offer what).
  `
  CREATE TABLE agent_accounts (
    jid     TEXT PRIMARY KEY,
    pool    TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
  ) STRICT;

  CREATE TABLE process_pools (
    process_id TEXT PRIMARY KEY,
    pool       TEXT NOT NULL,
    since      TEXT NOT NULL
  ) STRICT;
  `,
  // Callback deliveries waiting to be made (OGC 18-062r2, callback class); a job keeps at most one
  // pending progress delivery, replaced by newer progress (coalesced).
  `
  CREATE TABLE callbacks (
    id        INTEGER PRIMARY KEY,
    job_id    TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('success', 'in-progress', 'failed')),
    uri       TEXT NOT NULL,
    body      TEXT NOT NULL CHECK (json_valid(body)),
    attempts  INTEGER NOT NULL DEFAULT 0,
    next_at   INTEGER NOT NULL,
    created   INTEGER NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX callbacks_progress ON callbacks (job_id) WHERE kind = 'in-progress';
  CREATE INDEX callbacks_job ON callbacks (job_id, id);
  `,
  // Agent accounts an admin drained, by bare JID: a restart must not undrain them.
  `
  CREATE TABLE drained_accounts (
    jid   TEXT PRIMARY KEY,
    since TEXT NOT NULL
  ) STRICT;
  `,
  // The audit log: one row per admin action, one per source and minute of refused authentications.
  `
  CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    source  TEXT,
    detail  TEXT CHECK (detail IS NULL OR json_valid(detail)),
    count   INTEGER NOT NULL DEFAULT 1,
    minute  TEXT
  ) STRICT;
  CREATE INDEX audit_at ON audit (at, id);
  CREATE UNIQUE INDEX audit_refused ON audit (source, minute) WHERE minute IS NOT NULL;
  `,
  // Retention (docs/decisions.md, Retention and audit). A process's own keep time is remembered
  // while its agents are away, and copied into each new job of it; the server's applies to jobs
  // without one. Each kind of job is found oldest first along an index of its own, so a batch
  // never steps over jobs that are kept longer.
  `
  ALTER TABLE jobs ADD COLUMN keep_seconds INTEGER CHECK (keep_seconds IS NULL OR keep_seconds > 0);

  CREATE TABLE process_retention (
    process_id   TEXT PRIMARY KEY,
    keep_seconds INTEGER NOT NULL CHECK (keep_seconds > 0)
  ) STRICT;

  CREATE TRIGGER jobs_keep_seconds AFTER INSERT ON jobs
    WHEN EXISTS (SELECT 1 FROM process_retention WHERE process_id = NEW.process_id)
  BEGIN
    UPDATE jobs SET keep_seconds = (SELECT keep_seconds FROM process_retention WHERE process_id = NEW.process_id) WHERE id = NEW.id;
  END;

  CREATE INDEX jobs_expiry_default ON jobs (finished) WHERE finished IS NOT NULL AND keep_seconds IS NULL;
  CREATE INDEX jobs_expiry_own ON jobs (unixepoch(finished, 'subsec') + keep_seconds) WHERE finished IS NOT NULL AND keep_seconds IS NOT NULL;
  `,
];
