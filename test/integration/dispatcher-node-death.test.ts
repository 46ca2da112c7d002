import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { expectEachEchoedOnce, finalJobs, holdRuns, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';
import { skipWithoutEjabberd, startTestEjabberdCluster, type TestEjabberdCluster } from '../helpers/ejabberd.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { postgresOrSkip, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * docs/scale-out.md §5: two ejabberd nodes, an orchestrator beside each on one PostgreSQL, and an
 * agent given both nodes. When the dispatcher's node dies, the agent moves to the other node, the
 * dispatcher gives its lease up after `--link-grace`, and the orchestrator beside the surviving
 * node dispatches: the running job ends with its result, the waiting one runs, each once.
 */
describe('several orchestrators when the dispatcher’s ejabberd node dies', function () {
  this.timeout(120_000);
  let postgres: TestPostgres | undefined;
  let ejabberd: TestEjabberdCluster | undefined;
  let first: OrchestratorProcess | undefined;
  let second: OrchestratorProcess | undefined;
  let agent: AgentProcess | undefined;
  let dirs: string[] = [];
  let runsFile: string;

  before(async function () {
    skipWithoutEjabberd(this);
    postgres = postgresOrSkip(this, await startTestPostgres());
    ejabberd = await startTestEjabberdCluster();
    const databaseUrl = await postgres.createDatabase();
    const [dataA, dataB, files, services] = await Promise.all(['a', 'b', 'files', 'services'].map((name) => mkdtemp(path.join(os.tmpdir(), `outpost-${name}-`))));
    dirs = [dataA!, dataB!, files!, services!];
    runsFile = path.join(services!, 'runs');
    await writeCountedEcho(services!, runsFile);
    const flags = ['--database', databaseUrl, '--files-dir', files!, '--lease-retry', '0.2', '--link-grace', '1', '--anonymous-execute', 'true', '--agent-grace', '30', '--ping-interval', '1'];
    const [node1, node2] = ejabberd.nodes;
    // Started first, the orchestrator beside node 1 takes the lease and dispatches.
    first = await startOrchestratorProcess(node1, dataA!, flags);
    await eventually(async () => ((await fetch(`${first!.url}/readyz`)).ok ? true : undefined), 20_000, 'the first orchestrator dispatches');
    second = await startOrchestratorProcess(node2, dataB!, flags);
    const { jid, password } = await ejabberd.addAccount('roamer');
    await first.cli('agent', 'add', jid, '--pool', 'fleet', '--database', databaseUrl);
    agent = spawnAgent({ server: `${node1.clientService},${node2.clientService}`, jid: `${jid}/agent`, password, services: services!, workDir: path.join(dataA!, 'agent'), slots: 2, extraArgs: ['--ping-interval', '1'] });
    await eventually(async () => ((await fetch(`${second!.url}/processes/counted`)).ok ? true : undefined), 20_000, 'the follower offers the agent’s process');
  });
  after(async () => {
    await agent?.crash();
    await Promise.all([first?.crash(), second?.crash()]);
    await ejabberd?.stop();
    await postgres?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('gives the lease to the orchestrator beside the surviving node, where the running job ends and the waiting one runs, each once', async () => {
    const inputs = new Map<string, string>();
    const release = await holdRuns(runsFile);
    inputs.set(await submitCounted(fetch, second!.url, 'running-through-the-death', 0.1), 'running-through-the-death');
    await eventually(async () => ((await runsOf(runsFile)).size === 1 ? true : undefined), 10_000, 'the agent runs the job');
    // One slot is taken; the hold keeps the first run going, and a second job takes the other slot
    // only once it is dispatched: submitted after the kill, it needs the new dispatcher.
    const killed = Date.now();
    await ejabberd!.nodes[0].stop(0);
    expect(await first!.exited()).to.equal(75);
    const gaveUpMs = Date.now() - killed;
    // A dispatcher without its link forgets who is online (agents announce again), so the process
    // is offered again once the agent has announced itself to the new dispatcher.
    await eventually(async () => ((await fetch(`${second!.url}/processes/counted`)).ok ? true : undefined), 20_000, 'the new dispatcher offers the agent’s process');
    const offeredMs = Date.now() - killed;
    inputs.set(await submitCounted(fetch, second!.url, 'waiting-for-a-dispatcher', 0.1), 'waiting-for-a-dispatcher');
    await release();
    await eventually(
      async () => ((await finalJobs(fetch, second!.url, inputs.keys())).size === 2 && [...(await finalJobs(fetch, second!.url, inputs.keys())).values()].every((job) => job.status === 'successful') ? true : undefined),
      30_000,
      'both jobs successful',
    );
    process.stdout.write(`      (the dispatcher gave its lease up ${gaveUpMs} ms after its node was killed, the process was on offer again at ${offeredMs} ms, both jobs ended at ${Date.now() - killed} ms)\n`);
    await expectEachEchoedOnce(await finalJobs(fetch, second!.url, inputs.keys()), inputs, runsFile);
    expect(first!.output()).to.include('its XMPP component link has been down for 1 s');
  });
});
