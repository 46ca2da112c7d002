import { component } from '@xmpp/component';
import { xml } from '@xmpp/client';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { skipWithoutEjabberd, startTestEjabberdCluster, type TestEjabberdCluster } from '../helpers/ejabberd.js';
import { copyExamples } from '../helpers/examples.js';
import type { TestXmppServer } from '../helpers/prosody.js';
import { rawClient } from '../helpers/raw-xmpp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two ejabberd nodes clustered on this machine (docs/scale-out.md, when an ejabberd node dies):
 * the orchestrator is connected to the first node, its agent logs in on the second.
 */
describe('the fabric on a cluster of two ejabberd nodes', function () {
  this.timeout(120_000);
  let ejabberd: TestEjabberdCluster;
  let cluster: Cluster<TestXmppServer>;
  let servicesDir: string;

  before(async function () {
    skipWithoutEjabberd(this);
    ejabberd = await startTestEjabberdCluster();
    process.stdout.write(`      (two nodes booted side by side in ${ejabberd.bootMs} ms; the join took ${ejabberd.joinMs} ms)\n`);
    const [first, second] = ejabberd.nodes;
    // The orchestrator beside the first node, the agents on the second.
    const fabric = { domain: first.domain, componentDomain: first.componentDomain, componentSecret: first.componentSecret, componentService: first.componentService, clientService: second.clientService };
    const server: TestXmppServer = { fabric, addAccount: (name) => ejabberd.addAccount(name), stop: () => ejabberd.stop() };
    cluster = await startCluster({ pingInterval: 1 }, async () => server);
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'echo', 'slow');
  });
  after(async function () {
    if (cluster) await cluster.stop();
    else await ejabberd?.stop();
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  const job = (id: string) => cluster.orchestrator.jobStore.get(id);

  it('runs a job for an orchestrator on one node on an agent logged in on the other', async function () {
    await cluster.addAgent('across', servicesDir);
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'echo', inputs: { echo: 'across nodes' }, execution: { response: 'document' }, owner: 'anonymous' });
    const done = await eventually(() => (job(id)?.status === 'successful' ? job(id) : undefined), 10_000, 'job successful');
    expect(done.results).to.deep.equal({ echo: { value: 'across nodes' } });
  });

  it("prefers a component connection on the sender's own node", async function () {
    const [, second] = ejabberd.nodes;
    const local = component({ service: second.componentService, domain: second.componentDomain, password: second.componentSecret });
    const bodies: string[] = [];
    local.on('stanza', (stanza) => {
      if (stanza.is('message')) bodies.push(stanza.getChildText('body') ?? '');
    });
    await local.start();
    const { password } = await ejabberd.addAccount('local-sender');
    const sender = await rawClient({ service: second.clientService, domain: second.domain, name: 'local-sender', password });
    try {
      for (let i = 0; i < 20; i++) await sender.send(xml('message', { to: second.componentDomain }, xml('body', {}, `m${i}`)));
      for (let waited = 0; bodies.length < 20 && waited < 5000; waited += 20) await sleep(20);
      expect(bodies).to.have.length(20);
    } finally {
      await sender.stop();
      await local.stop();
    }
  });

  it("finds an agent gone with its node by pings, and finishes its job once the node is back", async function () {
    const agent = await cluster.addAgent('stranded', servicesDir);
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'slow', inputs: { steps: 40, interval: 0.2 }, execution: { response: 'document' }, owner: 'anonymous' });
    await eventually(() => (job(id)?.status === 'running' ? true : undefined), 10_000, 'job running');
    const [, second] = ejabberd.nodes;
    const killed = Date.now();
    await second.stop(0);
    // A dead node sends no unavailable presence for its sessions: the orchestrator's pings tell.
    await eventually(() => (cluster.orchestrator.registry.agents().some((a) => a.jid === agent.jid) ? undefined : true), 10_000, 'agent offline');
    const offlineMs = Date.now() - killed;
    await second.start();
    const restartedMs = Date.now() - killed;
    await eventually(() => (cluster.orchestrator.registry.agents().some((a) => a.jid === agent.jid) ? true : undefined), 30_000, 'agent back');
    process.stdout.write(`      (offline by pings ${offlineMs} ms after the kill; node back at ${restartedMs} ms, agent back at ${Date.now() - killed} ms)\n`);
    const done = await eventually(() => (job(id)?.status === 'successful' ? job(id) : undefined), 30_000, 'job successful');
    expect(done.results).to.deep.equal({ result: { value: { steps: 40 } } });
  });
});
