import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { runsOf } from '../helpers/counted-runs.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const SIZE = 32 * 1024 * 1024;

/**
 * Injects: SIGKILL of an agent (a process of its own) while it uploads a 32 MiB output file, the
 * moment the orchestrator starts writing the upload; then the agent started again on the same
 * work directory. docs/protocol.md §6.3: a restarted agent has lost its runs in flight, so it does
 * not list the job, and the job fails with `agent-lost` (3 s after that announce, well before the
 * 30 s grace); §5.8: what arrived of the file is not kept.
 */
describe('faults: an agent killed with SIGKILL during an output upload', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let servicesDir: string;
  let workDir: string;
  let runsFile: string;
  const agents: AgentProcess[] = [];

  before(async function () {
    cluster = await startCluster({ agentGrace: 30 });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-work-'));
    runsFile = path.join(servicesDir, 'runs');
    const script = await writeScript(servicesDir, 'big.sh', `printf '%s\\n' "$1" >> '${runsFile}'\nhead -c ${SIZE} /dev/zero > out.bin`);
    await writeProperties(servicesDir, 'big.properties', {
      service: 'big',
      executable: script,
      argformat: 'positional',
      inputs: JSON.stringify({ name: { type: 'string' } }),
      outputs: JSON.stringify({ data: { type: 'file', from: 'file:out.bin', mediaType: 'application/octet-stream' } }),
    });
  });
  after(async function () {
    await Promise.all(agents.map((agent) => agent.crash()));
    await cluster.stop();
    await Promise.all([servicesDir, workDir].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('fails the job as agent-lost once the restarted agent announces, keeping no part of the file', async function () {
    const { orchestrator, api } = cluster;
    const { jid, password } = await cluster.addAccount('uploader');
    const start = () => {
      const agent = spawnAgent({ server: cluster.server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir });
      agents.push(agent);
      return agent;
    };
    const first = start();
    await eventually(() => orchestrator.registry.process('big'), 20_000, 'big offered');
    const submit = async (name: string) => (await orchestrator.lifecycle.submit({ processId: 'big', inputs: { name }, execution: { response: 'document' }, owner: 'alice' })).id;
    const cut = await submit('cut');

    const uploads = path.join(cluster.dataDir, 'results', cut);
    await eventually(async () => ((await readdir(uploads).catch(() => [])).some((file) => file.endsWith('.part')) ? true : undefined), 20_000, 'upload under way');
    await first.crash();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(orchestrator.jobStore.get(cut)?.status, 'status while the agent is away').to.equal('running');

    start();
    const restarted = performance.now();
    const failed = await eventually(() => {
      const job = orchestrator.jobStore.get(cut);
      return job?.status === 'running' ? undefined : job;
    }, 20_000, 'the cut job ended');
    process.stdout.write(`      (the cut job failed ${((performance.now() - restarted) / 1000).toFixed(1)} s after the agent's restart)\n`);
    expect(failed).to.deep.include({ status: 'failed', error: { code: 'agent-lost', message: `agent ${jid}/agent was lost while running the job` } });
    // The files of a job that did not succeed are removed right after it ends.
    await eventually(() => (existsSync(uploads) ? undefined : true), 2000, 'no part of the cut upload kept');
    expect(existsSync(path.join(workDir, 'jobs', cut)), "the cut run's work directory removed by the restarted agent").to.equal(false);

    // The restarted agent uploads the next job's file whole.
    const next = await submit('next');
    await eventually(() => (orchestrator.jobStore.get(next)?.status === 'successful' ? true : undefined), 30_000, 'next job successful');
    const served = await api(`${orchestrator.url}/jobs/${next}/results/data`);
    expect(served.status).to.equal(200);
    expect((await served.arrayBuffer()).byteLength).to.equal(SIZE);
    expect([...(await runsOf(runsFile))]).to.deep.equal([['cut', 1], ['next', 1]]);
  });
});
