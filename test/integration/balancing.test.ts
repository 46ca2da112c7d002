import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyExamples } from '../helpers/examples.js';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';


describe('balancing across several real agents', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;

  let agents: TestAgent[];

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow');
    agents = [];
    for (const name of ['north', 'east', 'west']) agents.push(await cluster.addAgent(name, servicesDir, { slots: 2 }));
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  it('runs 12 jobs on 3 agents × 2 slots: all handed over at once, spread 4/4/4, at most 6 running at once, all finished', async function () {
    const { lifecycle: jobs, jobStore: store } = cluster.orchestrator;
    const ids = (await Promise.all(Array.from({ length: 12 }, () => jobs.submit({ processId: 'slow', inputs: { steps: 3, interval: 0.1 }, execution: { response: 'document' }, owner: 'anonymous' })))).map((job) => job.id);
    let mostHanded = 0;
    let mostRunning = 0;
    const spreads = new Set<string>();
    await eventually(() => {
      const all = ids.map((id) => store.get(id)!);
      // A job is the agent's from dispatch (agent recorded) until it finishes; one per slot waits there (docs/protocol.md §2.1, queue).
      const handed = all.filter((j) => j.agent !== null && (j.status === 'accepted' || j.status === 'running'));
      mostHanded = Math.max(mostHanded, handed.length);
      mostRunning = Math.max(mostRunning, agents.reduce((sum, agent) => sum + agent.agent.running, 0));
      if (handed.length === 12) {
        const perAgent = new Map<string, number>();
        for (const j of handed) perAgent.set(j.agent!, (perAgent.get(j.agent!) ?? 0) + 1);
        spreads.add([...perAgent.values()].sort().join('/'));
      }
      return all.every((j) => j.status === 'successful') ? true : undefined;
    }, 20_000, 'all 12 jobs successful');
    expect(mostHanded, 'jobs handed to agents at once').to.equal(12);
    expect(mostRunning, 'runs at once on the agents').to.equal(6);
    expect([...spreads]).to.deep.equal(['4/4/4']);
    const agentsUsed = new Set(ids.map((id) => store.get(id)!.agent!.split('@')[0]));
    expect([...agentsUsed].sort()).to.deep.equal(['east', 'north', 'west']);
  });
});
