import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { withToken } from '../helpers/api.js';
import { eventually } from '../helpers/cluster.js';
import { expectEachEchoedOnce, finalJobs, holdRuns, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';

const RUNNING = 20;
const WAITING = 100;

/**
 * Injects: SIGKILL of the orchestrator (`outpost serve`) while 20 jobs run on two agents and 100
 * wait, then a start on the same data directory, with the same Prosody and the same agents.
 */
describe('faults: the orchestrator killed with SIGKILL under load', function () {
  this.timeout(60_000);
  let server: TestProsody;
  let dataDir: string;
  let servicesDir: string;
  let runsFile: string;
  let orchestrator: OrchestratorProcess | undefined;
  const agents: AgentProcess[] = [];

  before(async function () {
    server = await startTestProsody();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-data-'));
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    runsFile = path.join(servicesDir, 'runs');
    await writeCountedEcho(servicesDir, runsFile);
    orchestrator = await startOrchestratorProcess(server.prosody, dataDir, ['--agent-grace', '20', '--max-running', String(RUNNING)]);
  });
  after(async function () {
    await Promise.all(agents.map((agent) => agent.crash()));
    await orchestrator?.crash();
    await server.stop();
    await Promise.all([dataDir, servicesDir].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('finishes every job once, with its own result, after a restart on the same data directory', async function () {
    const o = orchestrator!;
    const [userToken, adminToken] = await Promise.all([
      o.cli('token', 'create', '--user', 'carol'),
      o.cli('token', 'create', '--user', 'root', '--admin'),
      ...['one', 'two'].map(async (name) => {
        const { jid, password } = await server.addAccount(name);
        await o.cli('agent', 'add', jid, '--pool', 'fleet');
        agents.push(spawnAgent({ server: server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir: path.join(dataDir, `agent-${name}`), slots: RUNNING / 2 }));
      }),
    ]);
    const api = withToken(userToken!);
    // Both agents online with their catalogs: the first jobs then fill both.
    await eventually(async () => {
      const { agents: online } = (await (await withToken(adminToken!)(`${o.url}/admin/agents`)).json()) as { agents: { catalog: { received: boolean } }[] };
      return online.length === 2 && online.every((agent) => agent.catalog.received) ? true : undefined;
    }, 20_000, 'both agents online');

    // The first 20 fill every slot and are held there, so the other 100 all wait whatever the machine's speed.
    const release = await holdRuns(runsFile);
    const inputs = new Map<string, string>();
    const submit = async (n: number) => inputs.set(await submitCounted(api, o.url, `job-${n}`, 0.2), `job-${n}`);
    await Promise.all(Array.from({ length: RUNNING }, (_, n) => submit(n)));
    await eventually(async () => ((await runsOf(runsFile)).size === RUNNING ? true : undefined), 10_000, `${RUNNING} runs started`);
    await Promise.all(Array.from({ length: WAITING }, (_, n) => submit(RUNNING + n)));
    await o.crash();
    expect((await runsOf(runsFile)).size, 'runs started before the kill').to.equal(RUNNING);
    // The held runs end while the orchestrator is down: their agents keep the results until acknowledged.
    await release();

    const since = performance.now();
    await o.restart();
    const jobs = await eventually(async () => {
      const listed = (await (await api(`${o.url}/jobs?limit=1000`)).json()) as { jobs: { jobID: string; status: string }[] };
      if (listed.jobs.some((job) => job.status === 'accepted' || job.status === 'running')) return undefined;
      return listed.jobs;
    }, 40_000, 'every job finished');
    process.stdout.write(`      (all ${inputs.size} jobs finished ${((performance.now() - since) / 1000).toFixed(1)} s after the restart)\n`);
    expect(jobs.map((job) => job.jobID).sort()).to.deep.equal([...inputs.keys()].sort());
    const final = await finalJobs(api, o.url, inputs.keys());
    await expectEachEchoedOnce(final, inputs, runsFile);
  });
});
