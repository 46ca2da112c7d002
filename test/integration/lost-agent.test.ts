import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { TEST_USER } from '../helpers/api.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { copyExamples } from '../helpers/examples.js';
import { capturingLogger } from '../helpers/logger.js';

describe('a lost agent: what clients and operators see during the grace', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  let workDir: string;
  let agent: AgentProcess | undefined;
  const { logger, lines } = capturingLogger();

  before(async function () {
    cluster = await startCluster({ agentGrace: 20, logger });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-work-'));
    await copyExamples(servicesDir, 'slow');
  });
  after(async function () {
    await agent?.crash();
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  it('says in GET /jobs/{id} that the agent is lost and when the job fails, and logs it', async function () {
    const { jid, password } = await cluster.addAccount('fragile');
    agent = spawnAgent({ server: cluster.server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir });
    await eventually(() => cluster.orchestrator.registry.process('slow'), 10_000, 'slow offered');
    // The run writes a step every 0.2 s: once its agent is gone, its next write ends it.
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'slow', inputs: { steps: 100, interval: 0.2 }, execution: { response: 'document' }, owner: TEST_USER });
    await eventually(() => (cluster.orchestrator.jobStore.get(id)?.status === 'running' ? true : undefined), 5000, 'running');
    expect(lines.filter((line) => line['job'] === id).map((line) => line['msg'])).to.deep.equal(['job submitted', 'job dispatched', 'job running']);

    await agent.crash();
    const statusInfo = await eventually(async () => {
      const body = (await (await cluster.api(`${cluster.orchestrator.url}/jobs/${id}`)).json()) as { status: string; message?: string };
      return body.message?.startsWith('agent ') ? body : undefined;
    }, 5000, 'lost-agent note');
    expect(statusInfo.status).to.equal('running');
    const note = new RegExp(`^agent ${jid}/agent lost at (\\S+Z); the job fails at (\\S+Z) unless it comes back$`).exec(statusInfo.message!);
    expect(note, statusInfo.message).to.not.equal(null);
    expect(Date.parse(note![2]!) - Date.parse(note![1]!)).to.equal(20_000);
    const logged = lines.find((line) => line['job'] === id && line['msg'] === `agent lost: ${statusInfo.message}`);
    expect(logged).to.include({ level: 30, process: 'slow', agent: `${jid}/agent`, graceMs: 20_000 });
  });
});
