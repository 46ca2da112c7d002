import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentFeature, AgentMessage } from '../../protocol/index.js';
import { eventually, startCluster, submitJob, type Cluster } from '../helpers/cluster.js';
import { spec } from '../helpers/http-harness.js';
import { connectRawAgent, type RawAgent } from '../helpers/raw-agent.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the default, so that a burst's events reach the orchestrator within one window even on a busy machine. */
const WINDOW_MS = 100;
const BURST = 4;

/** docs/protocol.md §4.2.4: acknowledgements of an agent that takes `acks` travel together. */
describe('acknowledgements in batches', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  const raws: RawAgent[] = [];

  before(async function () {
    cluster = await startCluster({ tuning: { ackWindowMs: WINDOW_MS } });
  });
  after(async function () {
    await Promise.all(raws.map((raw) => raw.stop()));
    await cluster.stop();
  });

  /** A raw agent offering `processId` that runs BURST jobs of it and reports them all at once; returns their ids. */
  const burstOnRawAgent = async (name: string, processId: string, features?: AgentFeature[]) => {
    const { password } = await cluster.addAccount(name);
    const { prosody } = cluster.server;
    const raw = await connectRawAgent({ service: prosody.clientService, domain: prosody.domain, orchestrator: prosody.componentDomain, name, password, ...(features && { features }) });
    raws.push(raw);
    await raw.announce([spec(processId, { maxParallel: BURST })]);
    await eventually(() => cluster.orchestrator.registry.process(processId), 5000, `${processId} offered`);
    const jobs = await Promise.all(Array.from({ length: BURST }, () => submitJob(cluster, processId)));
    const executed = await Promise.all(jobs.map(() => raw.next('execute', 5000)));
    expect(executed.map((e) => e.job).sort()).to.deep.equal([...jobs].sort());
    await Promise.all(jobs.map((job) => raw.sendBody(JSON.stringify({ v: 1, type: 'completed', job, seq: 1, outputs: { result: { value: 'ok' } } }))));
    return { raw, jobs };
  };

  it('sends one acks message for results that arrive together to an agent that announced the feature, and single acks at once to one that did not', async function () {
    const [batching, single] = await Promise.all([burstOnRawAgent('batching', 'batched', ['acks']), burstOnRawAgent('single', 'unbatched')]);
    const byJob = (a: { job: string }, b: { job: string }) => a.job.localeCompare(b.job);
    const expected = (jobs: string[]) => [...jobs].sort().map((job) => ({ job, seq: 1 }));

    const batch = await batching.raw.next('acks', 5000);
    expect([...batch.acks].sort(byJob), 'the batch').to.deep.equal(expected(batching.jobs));
    const acks = await Promise.all(single.jobs.map(() => single.raw.next('ack', 5000)));
    expect(acks.map(({ job, seq }) => ({ job, seq })).sort(byJob), 'single acks').to.deep.equal(expected(single.jobs));
    await sleep(WINDOW_MS * 2);
    expect(batching.raw.unread('ack'), 'single acks to the agent that takes batches').to.deep.equal([]);
    expect(batching.raw.unread('acks'), 'further batches').to.deep.equal([]);
    expect(single.raw.unread('acks'), 'batches to the agent that does not take them').to.deep.equal([]);
  });

  it('the agent announces the feature, and after a burst of jobs its outbox empties without resending anything', async function () {
    const servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    try {
      await writeFile(path.join(servicesDir, 'quick.properties'), 'service = quick\nexecutable = /bin/true\nmax_parallel = 4\n');
      const agent = await cluster.addAgent('real', servicesDir, { slots: 4 });
      expect(cluster.orchestrator.registry.agent(agent.jid)?.load.features).to.deep.equal(['acks', 'queue']);
      const terminalEvents = new Map<string, number>();
      const count = (jid: string, message: AgentMessage) => {
        if (jid === agent.jid && ['completed', 'failed', 'killed'].includes(message.type)) {
          const { job } = message as { job: string };
          terminalEvents.set(job, (terminalEvents.get(job) ?? 0) + 1);
        }
      };
      cluster.orchestrator.link.on('message', count);
      const jobs = await Promise.all(Array.from({ length: 24 }, () => submitJob(cluster, 'quick')));
      await eventually(async () => {
        const records = await Promise.all(jobs.map((job) => cluster.orchestrator.jobs.get(job)));
        return records.every((record) => record?.status === 'successful') || undefined;
      }, 20_000, 'every job successful');
      // Past the agent's first resend of an unacknowledged event (1 s).
      await sleep(1500);
      cluster.orchestrator.link.off('message', count);
      expect(jobs.map((job) => terminalEvents.get(job)), 'terminal events sent per job').to.deep.equal(jobs.map(() => 1));
      expect(await readdir(path.join(agent.workDir, 'outbox')), 'files in the outbox').to.deep.equal([]);
    } finally {
      await rm(servicesDir, { recursive: true, force: true });
    }
  });
});
