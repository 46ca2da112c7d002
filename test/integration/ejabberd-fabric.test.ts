import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord } from '../../src/store/job-record.js';
import { eventually, startCluster, submitJob, type Cluster } from '../helpers/cluster.js';
import { skipWithoutEjabberd, startTestEjabberd, type TestEjabberd } from '../helpers/ejabberd.js';
import { copyExamples } from '../helpers/examples.js';

describe('the fabric on ejabberd: an orchestrator and real agents on a private ejabberd', function () {
  this.timeout(90_000);
  let cluster: Cluster<TestEjabberd>;
  let servicesDir: string;

  before(async function () {
    skipWithoutEjabberd(this);
    cluster = await startCluster({ agentGrace: 1 }, (tls) => startTestEjabberd(tls ? { tls } : {}));
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'echo', 'slow');
  });
  after(async function () {
    await cluster?.stop();
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  const job = (id: string) => cluster.orchestrator.jobStore.get(id);
  const until = (id: string, status: JobRecord['status'], timeoutMs = 10_000) =>
    eventually(() => (job(id)?.status === status ? job(id) : undefined), timeoutMs, `job ${status}`);

  it('hears agents announce their processes and runs a job end to end over HTTP', async function () {
    await cluster.addAgent('first', servicesDir);
    await cluster.addAgent('second', servicesDir);
    const listed = await cluster.api(`${cluster.orchestrator.url}/processes`);
    const ids = ((await listed.json()) as { processes: { id: string }[] }).processes.map((p) => p.id);
    expect(ids).to.include.members(['echo', 'slow']);
    const id = await submitJob(cluster, 'echo', { echo: 'over ejabberd' });
    const done = await until(id, 'successful');
    expect(done.results).to.deep.equal({ echo: { value: 'over ejabberd' } });
  });

  it("has an agent's XEP-0199 ping answered, and a ping of a JID without a session not", async function () {
    const agent = await cluster.addAgent('pinged', servicesDir);
    expect(await cluster.orchestrator.link.ping(agent.jid, 2000)).to.equal(true);
    expect(await cluster.orchestrator.link.ping(agent.jid.replace(/\/agent$/, '/elsewhere'), 2000)).to.equal(false);
  });

  it('reports an agent that stops offline at once', async function () {
    const agent = await cluster.addAgent('leaving', servicesDir);
    await agent.stop(0);
    await eventually(() => (cluster.orchestrator.registry.agents().some((a) => a.jid === agent.jid) ? undefined : true), 3000, 'agent offline');
  });

  it('finishes a job that was running while the orchestrator restarted', async function () {
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'slow', inputs: { steps: 8, interval: 0.1 }, execution: { response: 'document' }, owner: 'anonymous' });
    await until(id, 'running');
    await cluster.restartOrchestrator(100);
    const done = await until(id, 'successful');
    expect(done.results).to.deep.equal({ result: { value: { steps: 8 } } });
  });
});
