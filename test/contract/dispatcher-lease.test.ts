import { expect } from 'chai';
import pg from 'pg';
import { ClusterBus } from '../../src/cluster/cluster-bus.js';
import { DispatcherLease } from '../../src/cluster/dispatcher-lease.js';
import { endPredecessorSessions, writeRegistryChanges } from '../../src/store/postgres/postgres-cluster.js';
import { openPostgres } from '../../src/store/postgres/postgres-pool.js';
import { eventually } from '../helpers/cluster.js';
import { testLogger } from '../helpers/logger.js';
import { postgresOrSkip, type TestPostgres } from '../helpers/postgres.js';
import { sharedPostgres } from './stores-under-test.js';

describe('the dispatcher lease and the bus between orchestrators, on a real PostgreSQL', () => {
  let url: string;
  let pool: pg.Pool;
  const opened: { close(): Promise<void> }[] = [];
  const lost: string[] = [];
  const lease = () => {
    const made = new DispatcherLease({ url, retryMs: 50, logger: testLogger, onLost: (reason) => lost.push(reason) });
    opened.push(made);
    return made;
  };

  before(async function () {
    const postgres: TestPostgres = postgresOrSkip(this, await sharedPostgres());
    url = await postgres.createDatabase();
    pool = await openPostgres(url);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    lost.splice(0);
  });
  after(async () => {
    await pool?.end();
  });

  it('is held by one instance at a time, and passes to the next once the holder gives it up', async () => {
    const [first, second] = [lease(), lease()];
    expect(await first.tryAcquire()).to.equal(true);
    expect(await second.tryAcquire()).to.equal(false);
    let taken = false;
    void second.acquired().then(() => (taken = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(taken).to.equal(false);
    await first.close();
    await eventually(() => (taken ? true : undefined), 2000, 'the second instance holds the lease');
    expect(second.held).to.equal(true);
    expect(lost).to.deep.equal([]);
  });

  it('is freed when its session ends, and its holder is told at once that it lost it', async () => {
    const [first, second] = [lease(), lease()];
    expect(await first.tryAcquire()).to.equal(true);
    await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'outpost dispatcher lease' AND pid <> pg_backend_pid() AND state IS NOT NULL");
    await eventually(() => (lost.length > 0 ? true : undefined), 2000, 'the holder hears that it lost the lease');
    expect(lost[0]).to.match(/terminat|ended/);
    expect(first.held).to.equal(false);
    expect(await second.tryAcquire()).to.equal(true);
  });

  it('answers a request at once with a 503 when no instance dispatches, and with another when the dispatcher does not answer', async () => {
    const bus = await ClusterBus.open({ url, db: pool, logger: testLogger, onLost: (reason) => lost.push(reason) });
    opened.push(bus);
    const refusal = await bus.request({ op: 'limits' }, 200).catch((err: Error & { status: number }) => err);
    expect(refusal).to.include({ status: 503, message: 'no orchestrator dispatches jobs at the moment; try again shortly' });
    const holder = lease();
    expect(await holder.tryAcquire()).to.equal(true);
    const timedOut = await bus.request({ op: 'limits' }, 200).catch((err: Error & { status: number }) => err);
    expect(timedOut).to.include({ status: 503, message: 'the dispatching orchestrator did not carry out the limits within 0.2 s; try again' });
    const stop = bus.serve(async () => undefined);
    await bus.request({ op: 'limits' }, 2000);
    stop();
  });

  it("ends the sessions of the previous dispatcher, rolling back what it had not committed, and no one else's", async () => {
    const [previous, follower] = await Promise.all([openPostgres(url, undefined, 'previous-1'), openPostgres(url, undefined, 'follower-2')]);
    let unfinished: pg.PoolClient | undefined;
    try {
      await writeRegistryChanges(previous, 'previous-1', [], '{}');
      unfinished = await previous.connect();
      unfinished.on('error', () => undefined);
      await unfinished.query('BEGIN');
      await unfinished.query("UPDATE cluster_registry SET instance = 'late'");
      await follower.query('SELECT 1');
      expect(await endPredecessorSessions(pool, 'next-3', 5000)).to.equal(1);
      expect((await pool.query<{ instance: string }>('SELECT instance FROM cluster_registry')).rows).to.deep.equal([{ instance: 'previous-1' }]);
      const sessions = await pool.query<{ name: string }>("SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'outpost %-%' ORDER BY 1");
      expect(sessions.rows).to.deep.equal([{ name: 'outpost follower-2' }]);
    } finally {
      unfinished?.release(true);
      await Promise.all([previous.end(), follower.end()]);
    }
  });
});
