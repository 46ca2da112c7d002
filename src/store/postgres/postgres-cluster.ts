import pg from 'pg';
import type { Queryable } from './postgres-pool.js';

/**
 * The statements of several orchestrators on one database (docs/scale-out.md §3): the dispatcher
 * lease, the bus between instances, and the registry the dispatcher writes for the others.
 */

/** The advisory lock whose holder is the dispatcher; any number, the same in every orchestrator (below 2³¹, so `pg_locks.objid` shows it whole). */
const DISPATCHER_LOCK = 0x6f757471;

/** A connection of its own, outside the pool: a session lock and LISTEN live as long as their session; `settings` are the session's. */
export async function openSessionClient(url: string, purpose: string, settings: Record<string, number> = {}): Promise<pg.Client> {
  const options = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`).join(' ');
  const client = new pg.Client({ connectionString: url, application_name: `outpost ${purpose}`, keepAlive: true, ...(options && { options }) });
  await client.connect();
  return client;
}

/** Takes the dispatcher lock if nobody holds it; true when this session holds it (now or already). */
export async function tryDispatcherLock(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [DISPATCHER_LOCK]);
  return rows[0]!.held;
}

/** Whether some session holds the dispatcher lock: lets a follower answer at once that nobody dispatches. */
export async function dispatcherLockHeld(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted) AS held",
    [DISPATCHER_LOCK],
  );
  return rows[0]!.held;
}

/** Every payload as one notification on `channel`, in order, in one statement (each under 8,000 bytes). */
export async function notifyAll(db: Queryable, channel: string, payloads: string[]): Promise<void> {
  await db.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS p (payload, n) ORDER BY n', [channel, payloads]);
}

export async function listenTo(client: pg.Client, channel: string): Promise<void> {
  await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
}

/** The registry as the dispatcher `instance` last wrote it. */
export async function writeRegistrySnapshot(db: Queryable, instance: string, snapshot: string): Promise<void> {
  await db.query(
    `INSERT INTO cluster_registry (id, instance, snapshot, written) VALUES (1, $1, $2, now())
     ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, snapshot = excluded.snapshot, written = excluded.written`,
    [instance, snapshot],
  );
}

export async function readRegistrySnapshot(db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ snapshot: string }>('SELECT snapshot FROM cluster_registry WHERE id = 1');
  return rows[0]?.snapshot;
}

/** Jobs of `owner` waiting for an agent: the store's count, which every instance sees alike. */
export async function waitingJobsOf(db: Queryable, owner: string): Promise<number> {
  const { rows } = await db.query<{ waiting: number }>("SELECT count(*)::integer AS waiting FROM jobs WHERE owner = $1 AND status = 'accepted' AND agent IS NULL", [owner]);
  return rows[0]!.waiting;
}

/**
 * A new dispatcher ends the pool sessions of the one that wrote the registry before it, and waits
 * up to `timeoutMs` for them to end: a write that the predecessor sent just before it died (or
 * lost the lease) is then committed or rolled back before the new one reads the queue. Returns
 * how many sessions were ended.
 */
export async function endPredecessorSessions(db: Queryable, instance: string, timeoutMs: number): Promise<number> {
  const { rows } = await db.query<{ ended: boolean }>(
    `SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity
     WHERE application_name = 'outpost ' || (SELECT instance FROM cluster_registry WHERE id = 1 AND instance <> $1)`,
    [instance, timeoutMs],
  );
  return rows.filter((row) => row.ended).length;
}

/** A new dispatcher records itself as the one that carries on the jobs handed out before it. */
export async function takeOverJobs(db: Queryable, instance: string): Promise<number> {
  const { rowCount } = await db.query("UPDATE jobs SET dispatched_by = $1 WHERE status IN ('accepted', 'running') AND agent IS NOT NULL", [instance]);
  return rowCount ?? 0;
}
