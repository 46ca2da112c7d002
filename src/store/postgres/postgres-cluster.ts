import pg from 'pg';
import { inTransaction, type Pool, type Queryable } from './postgres-pool.js';

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

/** An agent's row as the dispatcher writes it: its state (null: gone) and, when it changed, its catalog. */
export interface AgentRow {
  jid: string;
  state: string | null;
  catalog?: string;
}

/**
 * The dispatcher `instance` writes the agents that changed and, when they changed, the owners of
 * the processes on offer, in one transaction; each agent row gets the next version.
 */
export function writeRegistryChanges(db: Pool, instance: string, agents: AgentRow[], claims: string | undefined): Promise<void> {
  return inTransaction(db, async (client) => {
    if (agents.length > 0) {
      await client.query(
        `INSERT INTO cluster_agents (jid, state, catalog, version, catalog_version)
         SELECT jid, state, catalog, v, CASE WHEN catalog IS NULL THEN NULL ELSE v END
         FROM (SELECT jid, state, catalog, nextval('cluster_agents_version') AS v FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a (jid, state, catalog, n) ORDER BY n) AS rows
         ON CONFLICT (jid) DO UPDATE SET
           state = excluded.state,
           version = excluded.version,
           catalog = CASE WHEN excluded.state IS NULL THEN NULL ELSE coalesce(excluded.catalog, cluster_agents.catalog) END,
           catalog_version = CASE WHEN excluded.catalog IS NULL THEN cluster_agents.catalog_version ELSE excluded.version END`,
        [agents.map((a) => a.jid), agents.map((a) => a.state), agents.map((a) => a.catalog ?? null)],
      );
    }
    if (claims !== undefined) {
      await client.query(
        `INSERT INTO cluster_registry (id, instance, claims, written) VALUES (1, $1, $2, now())
         ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, claims = excluded.claims, written = excluded.written`,
        [instance, claims],
      );
    }
  });
}

/** The agents changed since `since` (a version; 0 for all), with their catalog when it changed since too, and the owners of processes. */
export async function readRegistryChanges(db: Queryable, since: number): Promise<{ agents: (AgentRow & { version: number })[]; claims: string | undefined }> {
  const { rows } = await db.query<{ jid: string; state: string | null; catalog: string | null; version: string }>(
    'SELECT jid, state, CASE WHEN catalog_version > $1 THEN catalog END AS catalog, version FROM cluster_agents WHERE version > $1 ORDER BY version',
    [since],
  );
  const { rows: claims } = await db.query<{ claims: string }>('SELECT claims FROM cluster_registry WHERE id = 1');
  return {
    agents: rows.map((row) => ({ jid: row.jid, state: row.state, version: Number(row.version), ...(row.catalog !== null && { catalog: row.catalog }) })),
    claims: claims[0]?.claims,
  };
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
