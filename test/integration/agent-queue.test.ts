import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentFeature, AgentMessage } from '../../protocol/index.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { eventually, startCluster, submitJob, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { spec } from '../helpers/http-harness.js';
import { LONG_RUN_MS } from '../../src/jobs/run-times.js';
import { connectRawAgent, type RawAgent } from '../helpers/raw-agent.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough that a second job is handed over while the first still runs. */
const RUN_SECONDS = 0.6;

/** docs/protocol.md §2.1 `queue`: an agent keeps one job waiting per slot, so that no slot idles between two jobs. */
describe('jobs waiting on their agent (queue)', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  const dirs: string[] = [];
  const raws: RawAgent[] = [];
  /** Messages agents sent to the orchestrator, by type. */
  const received: { jid: string; message: AgentMessage }[] = [];
  const sent = (type: AgentMessage['type'], jid: string) => received.filter((r) => r.jid === jid && r.message.type === type).map((r) => r.message);

  before(async function () {
    cluster = await startCluster();
    cluster.orchestrator.link.on('message', (jid: string, message: AgentMessage) => void received.push({ jid, message }));
  });
  after(async function () {
    await Promise.all(raws.map((raw) => raw.stop()));
    await cluster.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** A real agent with one slot offering `process`, a run of `seconds`. */
  const oneSlotAgent = async (name: string, process: string, seconds = RUN_SECONDS): Promise<TestAgent> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    dirs.push(dir);
    await writeFile(path.join(dir, `${process}.properties`), `service = ${process}\nexecutable = /bin/sleep\ncustomargs = ${seconds}\n`);
    return cluster.addAgent(name, dir, { slots: 1 });
  };
  const record = async (job: string) => (await cluster.orchestrator.jobs.get(job)) as JobRecord;
  /** The job is recorded as handed to the agent, and the agent holds it waiting for its one slot. */
  const heldWaiting = (agent: TestAgent, job: string) =>
    eventually(async () => ((await record(job)).agent === agent.jid && agent.agent.waiting === 1) || undefined, 2000, `job ${job} waiting on ${agent.jid}`);
  const finished = (job: string, status: string) =>
    eventually(async () => ((await record(job)).status === status ? record(job) : undefined), 10_000, `job ${job} ${status}`);

  it('hands a one-slot agent two jobs at once; they run one after the other, and none is refused', async function () {
    const agent = await oneSlotAgent('queued', 'nap');
    expect(cluster.orchestrator.registry.agent(agent.jid)?.load.features).to.deep.equal(['acks', 'queue']);
    const [first, second] = [await submitJob(cluster, 'nap'), await submitJob(cluster, 'nap')];
    await heldWaiting(agent, second!);
    expect((await record(first!)).status, 'the first job while the second is handed over').to.be.oneOf(['accepted', 'running']);
    expect(agent.agent.running, 'runs going on').to.equal(1);
    expect((await record(second!)).status, 'the waiting job').to.equal('accepted');

    const [done1, done2] = [await finished(first!, 'successful'), await finished(second!, 'successful')];
    expect(Date.parse(done2.started!), 'the second run starts once the first is over').to.be.at.least(Date.parse(done1.finished!) - 50);
    expect(sent('rejected', agent.jid)).to.deep.equal([]);
  });

  it('keeps a job of a process whose runs are long in the orchestrator\'s queue, not waiting behind a run', async function () {
    const agent = await oneSlotAgent('long-runs', 'long-nap', (LONG_RUN_MS * 1.3) / 1000);
    await finished(await submitJob(cluster, 'long-nap'), 'successful');
    const [first, second] = [await submitJob(cluster, 'long-nap'), await submitJob(cluster, 'long-nap')];
    await eventually(async () => ((await record(first!)).status === 'running' ? true : undefined), 5000, 'the first job running');
    await sleep(300);
    expect(agent.agent.waiting, 'jobs the agent holds waiting').to.equal(0);
    expect((await record(second!)).agent, 'the second job, while the first runs').to.equal(null);
    expect(cluster.orchestrator.lifecycle.queued()).to.equal(1);
    await finished(second!, 'successful');
  });

  it('hands a raw agent with the word twice its slots, and one without exactly its slots', async function () {
    const { prosody } = cluster.server;
    const connect = async (name: string, features: AgentFeature[]) => {
      const { password } = await cluster.addAccount(name);
      const raw = await connectRawAgent({ service: prosody.clientService, domain: prosody.domain, orchestrator: prosody.componentDomain, name, password, features });
      raws.push(raw);
      // The raw agent announces 4 slots; max_parallel above them is capped to them.
      await raw.announce([spec(name, { maxParallel: 8 })]);
      await eventually(() => cluster.orchestrator.registry.process(name), 5000, `${name} offered`);
      for (let i = 0; i < 10; i++) await submitJob(cluster, name);
      return raw;
    };
    const [queueing, plain] = await Promise.all([connect('raw-queue', ['acks', 'queue']), connect('raw-plain', ['acks'])]);
    await eventually(() => (queueing.unread('execute').length >= 8 && plain.unread('execute').length >= 4) || undefined, 5000, 'executes');
    await sleep(300);
    expect(queueing.unread('execute'), 'executes to the agent with queue').to.have.length(8);
    expect(plain.unread('execute'), 'executes to the agent without').to.have.length(4);
  });

  it('ends a killed waiting job as dismissed, at once, while the running one completes', async function () {
    const agent = await oneSlotAgent('killing', 'doze');
    const [running, waiting] = [await submitJob(cluster, 'doze'), await submitJob(cluster, 'doze')];
    await heldWaiting(agent, waiting!);
    const stopped = await cluster.orchestrator.lifecycle.stop(waiting!, null);
    expect(stopped.status).to.equal('dismissed');
    expect((await record(running!)).status, 'the running job when the waiting one is dismissed').to.be.oneOf(['accepted', 'running']);
    expect(sent('killed', agent.jid), 'terminal events of the waiting job').to.deep.equal([{ v: 1, type: 'killed', job: waiting, seq: 1 }]);
    await finished(running!, 'successful');
    await eventually(() => (agent.agent.running === 0 || undefined), 2000, 'agent idle');
  });

  it('lists a waiting job with seq 0 when it announces itself again; the orchestrator keeps it there, not running', async function () {
    const agent = await oneSlotAgent('listing', 'siesta');
    const [first, second] = [await submitJob(cluster, 'siesta'), await submitJob(cluster, 'siesta')];
    await heldWaiting(agent, second!);
    await agent.agent.announce();
    const lists = () => sent('jobs', agent.jid).map((m) => (m as Extract<AgentMessage, { type: 'jobs' }>).jobs);
    const listed = await eventually(() => lists().find((jobs) => jobs.length > 0), 2000, 'a jobs message listing jobs');
    expect(listed.find((j) => j.job === second), 'the waiting job in the list').to.deep.equal({ job: second, process: 'siesta', seq: 0 });
    await sleep(100);
    expect((await record(second!)).status, 'the waiting job once listed').to.equal('accepted');
    await finished(first!, 'successful');
    await finished(second!, 'successful');
    expect(sent('rejected', agent.jid)).to.deep.equal([]);
  });

  it('a draining agent hands its waiting job back, and the job runs on another agent', async function () {
    const draining = await oneSlotAgent('draining', 'rest');
    const [first, second] = [await submitJob(cluster, 'rest'), await submitJob(cluster, 'rest')];
    await heldWaiting(draining, second!);
    const other = await oneSlotAgent('other', 'rest');
    await draining.agent.drain(true);
    const done = await finished(second!, 'successful');
    expect(done.agent, 'where the handed-back job ran').to.equal(other.jid);
    expect((await finished(first!, 'successful')).agent, 'where the running job ran').to.equal(draining.jid);
    expect(sent('rejected', draining.jid).map((m) => (m as { reason: string }).reason)).to.deep.equal(['draining']);
  });
});
