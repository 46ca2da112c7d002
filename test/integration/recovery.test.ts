import { expect } from 'chai';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyExamples } from '../helpers/examples.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { isGone, waitUntilGone } from '../helpers/process-tree.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';


describe('recovery: restarts and lost agents lose no job', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;

  beforeEach(async function () {
    cluster = await startCluster({ agentGrace: 1 });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow');
  });
  afterEach(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const submit = (steps: number, interval: number) =>
    cluster.orchestrator.lifecycle.submit({ processId: 'slow', inputs: { steps, interval }, execution: { response: 'document' }, owner: 'anonymous' });
  const job = (id: string) => cluster.orchestrator.jobStore.get(id);
  const until = (id: string, status: JobRecord['status'], timeoutMs = 10_000) =>
    eventually(() => (job(id)?.status === status ? job(id) : undefined), timeoutMs, `job ${status}`);

  it('finishes a job that was running while the orchestrator restarted', async function () {
    await cluster.addAgent('steady', servicesDir);
    const { id } = await submit(8, 0.1);
    await until(id, 'running');
    await cluster.restartOrchestrator(100);
    const done = await until(id, 'successful');
    expect(done.results).to.deep.equal({ result: { value: { steps: 8 } } });
  });

  it('delivers a result that was produced while the orchestrator was down', async function () {
    await cluster.addAgent('patient', servicesDir);
    const { id } = await submit(2, 0.1);
    await until(id, 'running');
    // The run ends (~0.2 s) while the orchestrator is away; the agent keeps the result until acknowledged.
    await cluster.restartOrchestrator(1500);
    const done = await until(id, 'successful');
    expect(done.results).to.deep.equal({ result: { value: { steps: 2 } } });
  });

  it('fails the running job of an agent that shuts down, saying why', async function () {
    const agent = await cluster.addAgent('mortal', servicesDir);
    const { id } = await submit(100, 0.1);
    await until(id, 'running');
    await agent.stop(0);
    const failed = await until(id, 'failed', 5000);
    expect(failed.error).to.deep.include({ code: 'signal', message: 'the run was stopped on its agent (the agent shut down)' });
  });

  it('comes back by itself after the XMPP server restarts', async function () {
    await cluster.addAgent('reconnecting', servicesDir);
    const { prosody } = cluster.server;
    await prosody.stop();
    await eventually(() => (cluster.orchestrator.link.online ? undefined : true), 2000, 'component offline');
    await prosody.start();
    await eventually(() => (cluster.orchestrator.link.online ? true : undefined), 5000, 'component online again');
    const { id } = await eventually(() => {
      try {
        return submit(1, 0);
      } catch {
        return undefined;
      }
    }, 5000, 'slow offered again');
    const done = await until(id, 'successful');
    expect(done.results).to.deep.equal({ result: { value: { steps: 1 } } });
  });

  it('runs a queued job once an agent offering the process comes', async function () {
    const first = await cluster.addAgent('early', servicesDir, { slots: 1 });
    const running = await submit(100, 0.05);
    await until(running.id, 'running');
    // The agent keeps one job per slot waiting (docs/protocol.md §2.1, queue): the next one stays with the orchestrator.
    await submit(100, 0.05);
    const queued = await submit(1, 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(job(queued.id)?.status).to.equal('accepted');
    await cluster.addAgent('late', servicesDir, { slots: 1 });
    const done = await until(queued.id, 'successful');
    expect(done.agent).to.match(/^late@/);
    await first.stop(0);
  });
});

describe('recovery: an agent that crashes', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  let workDir: string;
  const agents: AgentProcess[] = [];

  before(async function () {
    cluster = await startCluster({ agentGrace: 1 });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-work-'));
    // A run that writes nothing: it would not even notice its agent's pipes closing.
    await writeFile(path.join(servicesDir, 'nap.properties'), 'service = nap\nexecutable = /bin/sleep\nargformat = positional\ninputs = {"seconds": {"type": "integer"}}\n');
  });
  after(async function () {
    await Promise.all(agents.map((a) => a.crash()));
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  /** Pids of processes whose working directory is inside the agent's work directory. */
  async function runsIn(dir: string): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
      if (cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
    }
    return pids;
  }

  it('fails its job with agent-lost after the grace, and its next start kills the orphaned run', async function () {
    const { jid, password } = await cluster.addAccount('crashy');
    const start = () => {
      // Runs started by Node's spawn outlive a crash; those of the launcher do not (next test).
      const env = { OUTPOST_AGENT_SPAWN: 'child_process' };
      const agent = spawnAgent({ server: cluster.server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir, env });
      agents.push(agent);
      return agent;
    };
    const first = start();
    await eventually(() => cluster.orchestrator.registry.process('nap'), 10_000, 'nap offered');
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'nap', inputs: { seconds: 60 }, execution: { response: 'document' }, owner: 'anonymous' });
    await eventually(() => (cluster.orchestrator.jobStore.get(id)?.status === 'running' ? true : undefined), 5000, 'running');
    // The agent reports the job running before it spawns the program.
    await eventually(async () => ((await runsIn(workDir)).length > 0 ? true : undefined), 2000, 'program started');

    await first.crash();
    const failed = await eventually(() => {
      const job = cluster.orchestrator.jobStore.get(id);
      return job?.status === 'failed' ? job : undefined;
    }, 5000, 'agent-lost');
    expect(failed.error).to.deep.equal({ code: 'agent-lost', message: `agent ${jid}/agent was lost while running the job` });
    // Its process group outlived the crash...
    expect(await runsIn(workDir)).to.not.be.empty;

    start();
    await eventually(() => cluster.orchestrator.registry.process('nap'), 10_000, 'nap offered again');
    // ...until the agent started again on the same work directory.
    await eventually(async () => ((await runsIn(workDir)).length === 0 ? true : undefined), 2000, 'orphan killed');
  });

  it('kills at its next start a run whose program killed the agent at once, groups that left and a folder that changed included', async function () {
    const { jid, password } = await cluster.addAccount('killed-at-spawn');
    const ownDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-killed-at-spawn-'));
    const [ownServices, ownWorkDir, pidFile] = ['services', 'work', 'pids'].map((name) => path.join(ownDir, name)) as [string, string, string];
    // Between the spawn and anything the agent does next: the program SIGKILLs its agent (its parent).
    await writeScript(ownServices, 'bin/kill-agent.sh', 'echo $$ > "$PIDS"\ncd /\nsetsid sleep 60 &\necho $! >> "$PIDS"\nsleep 60 &\necho $! >> "$PIDS"\nkill -9 $PPID\nwait');
    await writeProperties(ownServices, 'kill-agent.properties', { service: 'kill-agent', executable: 'bin/kill-agent.sh', env: JSON.stringify({ PIDS: pidFile }) });
    const start = () => {
      // The program's parent must be the agent, not its launcher.
      const env = { OUTPOST_AGENT_SPAWN: 'child_process' };
      const agent = spawnAgent({ server: cluster.server.prosody.clientService, jid: `${jid}/agent`, password, services: ownServices, workDir: ownWorkDir, env });
      agents.push(agent);
      return agent;
    };
    const first = start();
    await eventually(() => cluster.orchestrator.registry.process('kill-agent'), 10_000, 'kill-agent offered');
    await cluster.orchestrator.lifecycle.submit({ processId: 'kill-agent', inputs: {}, execution: { response: 'document' }, owner: 'anonymous' });
    await eventually(() => (first.child.signalCode === 'SIGKILL' ? true : undefined), 5000, 'the agent killed by its program');
    const pids = await eventually(async () => {
      const lines = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      return lines.length === 3 ? lines : undefined;
    }, 2000, 'the run and its two children started');
    expect(pids.map(isGone), 'the run outlived its agent').to.deep.equal([false, false, false]);

    const second = start();
    for (const pid of pids) expect(await waitUntilGone(pid, 10_000), `pid ${pid} killed by the next start`).to.equal(true);
    await second.crash();
    await rm(ownDir, { recursive: true, force: true });
  });

  it('takes the runs of its launcher along when it crashes', async function () {
    // The only agent offering the process (in the pool that offers it), so the job runs here.
    await Promise.all(agents.map((a) => a.crash()));
    const { jid, password } = await cluster.addAccount('crashy-launched', 'crashy');
    const launchedDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-work-'));
    const agent = spawnAgent({ server: cluster.server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir: launchedDir });
    agents.push(agent);
    try {
      await eventually(() => cluster.orchestrator.registry.agents().find((a) => a.jid === `${jid}/agent` && a.catalogHash === a.load.catalog), 10_000, 'agent online');
      await eventually(() => cluster.orchestrator.registry.process('nap'), 10_000, 'nap offered');
      const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'nap', inputs: { seconds: 60 }, execution: { response: 'document' }, owner: 'anonymous' });
      await eventually(async () => ((await runsIn(launchedDir)).length > 0 ? true : undefined), 5000, `job ${id} running`);
      await agent.crash();
      await eventually(async () => ((await runsIn(launchedDir)).length === 0 ? true : undefined), 2000, 'run ended with its agent');
    } finally {
      await rm(launchedDir, { recursive: true, force: true });
    }
  });
});
