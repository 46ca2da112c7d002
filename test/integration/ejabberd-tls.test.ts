import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent } from '../helpers/agent-process.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { skipWithoutEjabberd, startTestEjabberd, type TestEjabberd } from '../helpers/ejabberd.js';
import { copyExamples, examplesDir } from '../helpers/examples.js';

const WRONG_PIN = 'ab'.repeat(32);

describe('the fabric on ejabberd with TLS: STARTTLS required, agents pin its certificate', function () {
  this.timeout(90_000);
  let cluster: Cluster<TestEjabberd>;
  let servicesDir: string;

  before(async function () {
    skipWithoutEjabberd(this);
    cluster = await startCluster({ tls: true }, (tls) => startTestEjabberd(tls ? { tls } : {}));
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'echo');
  });
  after(async function () {
    await cluster?.stop();
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  it('lets an agent that pins the certificate log in over STARTTLS and run a job', async function () {
    await cluster.addAgent('pinned', servicesDir);
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'echo', inputs: { echo: 'pinned' }, execution: { response: 'document' }, owner: 'anonymous' });
    const done = await eventually(() => (cluster.orchestrator.jobStore.get(id)?.status === 'successful' ? cluster.orchestrator.jobStore.get(id) : undefined), 10_000, 'job successful');
    expect(done.results).to.deep.equal({ echo: { value: 'pinned' } });
  });

  it('ends an agent with one line and exit code 78 when the certificate is not the pinned one', async function () {
    const { jid, password } = await cluster.addAccount('wrongpin');
    const agent = spawnAgent({
      server: cluster.server.ejabberd.clientService,
      jid: `${jid}/agent`,
      password,
      services: examplesDir,
      workDir: path.join(cluster.dataDir, 'wrongpin'),
      extraArgs: ['--server-fingerprint', WRONG_PIN],
    });
    const [code] = await once(agent.child, 'exit');
    expect(code).to.equal(78);
    const lines = agent.output().split('\n').filter((line) => line !== '' && !line.startsWith('{'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(new RegExp(`^outpost-agent: the server's certificate has fingerprint ${cluster.tls!.fingerprint}, not the pinned `));
  });
});
