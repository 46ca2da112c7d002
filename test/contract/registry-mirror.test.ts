import { expect } from 'chai';
import pg from 'pg';
import { ClusterBus } from '../../src/cluster/cluster-bus.js';
import { mirrorRegistry, publishRegistry } from '../../src/cluster/registry-mirror.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { readRegistryChanges, writeRegistryChanges } from '../../src/store/postgres/postgres-cluster.js';
import { openPostgres } from '../../src/store/postgres/postgres-pool.js';
import { eventually } from '../helpers/cluster.js';
import { testLogger } from '../helpers/logger.js';
import { postgresOrSkip } from '../helpers/postgres.js';
import { sharedPostgres } from './stores-under-test.js';

const LOAD = { slots: 2, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };
const spec = (id: string) => ({ id, title: id, version: '1', keywords: [], inputs: {}, outputs: {}, maxParallel: 1, file: `${id}.properties` });
const JID = 'worker@example.org/agent';

describe("a follower's copy of the dispatcher's registry, through PostgreSQL", () => {
  let pool: pg.Pool;
  let bus: ClusterBus;
  const stops: (() => void)[] = [];
  const dispatcher = new AgentRegistry();
  const follower = new AgentRegistry();
  const catalogVersion = async () => (await pool.query<{ v: string }>('SELECT catalog_version AS v FROM cluster_agents WHERE jid = $1', [JID])).rows[0]?.v;

  before(async function () {
    const url = await postgresOrSkip(this, await sharedPostgres()).createDatabase();
    pool = await openPostgres(url);
    bus = await ClusterBus.open({ url, db: pool, logger: testLogger, onLost: () => undefined });
    const rows = { write: writeRegistryChanges.bind(null, pool, 'dispatcher-1'), read: readRegistryChanges.bind(null, pool) };
    stops.push(publishRegistry(dispatcher, rows, bus, 20, testLogger), await mirrorRegistry(follower, rows, bus, testLogger));
  });
  after(async () => {
    for (const stop of stops) stop();
    await bus?.close();
    await pool?.end();
  });

  it('shows an agent, its catalog and the pool that owns each process once the dispatcher registered them', async () => {
    dispatcher.updatePresence(JID, LOAD, 'fleet');
    dispatcher.setCatalog(JID, 'h1', [spec('echo'), spec('slow')], []);
    await eventually(() => follower.process('slow'), 2000, 'the follower offers the process');
    expect(follower.owner('echo')).to.equal('fleet');
    expect(follower.agent(JID)).to.include({ pool: 'fleet', catalogHash: 'h1' });
  });

  it("writes a change of load without the catalog, and an admin's drain", async () => {
    const before = await catalogVersion();
    dispatcher.updatePresence(JID, { ...LOAD, running: 2 }, 'fleet');
    dispatcher.setDrained(JID, true);
    await eventually(() => (follower.agent(JID)?.load.running === 2 && follower.isDrained(JID) ? true : undefined), 2000, 'the follower sees the load and the drain');
    expect(await catalogVersion()).to.equal(before);
    expect(follower.process('echo')?.agents).to.deep.equal([JID]);
  });

  it('drops an agent the dispatcher no longer has, and takes its new catalog when it is back', async () => {
    dispatcher.remove(JID);
    await eventually(() => (follower.agent(JID) ? undefined : true), 2000, 'the follower drops the agent');
    expect(follower.process('echo')).to.equal(undefined);
    dispatcher.updatePresence(JID, { ...LOAD, catalog: 'h2' }, 'fleet');
    dispatcher.setCatalog(JID, 'h2', [spec('echo')], []);
    await eventually(() => (follower.agent(JID)?.catalogHash === 'h2' ? true : undefined), 2000, 'the follower has the new catalog');
    expect(follower.processes().map((p) => p.spec.id)).to.deep.equal(['echo']);
  });
});
