import { component } from '@xmpp/component';
import { xml } from '@xmpp/client';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { runsOf, writeCountedEcho } from '../helpers/counted-runs.js';
import { startSilentRelay } from '../helpers/silent-relay.js';
import { startVanishedHost } from '../helpers/vanished-host.js';
import { skipWithoutEjabberd, startTestEjabberdCluster, type TestEjabberdCluster } from '../helpers/ejabberd.js';
import { copyExamples } from '../helpers/examples.js';
import type { TestXmppServer } from '../helpers/prosody.js';
import { rawClient } from '../helpers/raw-xmpp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The agent's logins as its JSON log tells them: when, and on which node. */
const logins = (agent: AgentProcess) =>
  agent
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"xmpp client online"'))
    .map((line) => JSON.parse(line) as { time: number; server: string });

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
  /** A standalone agent given both nodes, by default `--server NODE2,NODE1`, offering `counted` (test/helpers/counted-runs.ts). */
  async function spawnBothNodesAgent(name: string, servers = [ejabberd.nodes[1].clientService, ejabberd.nodes[0].clientService], extraArgs: string[] = []): Promise<{ agent: AgentProcess; runsFile: string }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `outpost-${name}-`));
    dirs.push(dir);
    const services = path.join(dir, 'services');
    const runsFile = path.join(dir, 'runs');
    await writeCountedEcho(services, runsFile);
    // One pool, so that each of these agents may offer `counted` in turn.
    const { jid, password } = await cluster.addAccount(name, 'both-nodes');
    const agent = spawnAgent({ server: servers.join(','), jid: `${jid}/agent`, password, services, workDir: path.join(dir, 'work'), logLevel: 'info', extraArgs });
    spawned.push(agent);
    const announced = () => cluster.orchestrator.registry.agents().find((a) => a.jid === `${jid}/agent` && a.catalogHash === a.load.catalog);
    await eventually(() => announced(), 20_000, `${name} announced (output: ${agent.output()})`);
    return { agent, runsFile };
  }
  const dirs: string[] = [];
  const spawned: AgentProcess[] = [];
  afterEach(async function () {
    await Promise.all(spawned.splice(0).map((agent) => agent.crash()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

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

  it('leaves a node that falls silent for the other node, where its job ends, run once', async function () {
    const [first, second] = ejabberd.nodes;
    const relay = await startSilentRelay(second.host, second.c2sPort);
    try {
      const { agent, runsFile } = await spawnBothNodesAgent('silence', [relay.service, first.clientService], ['--ping-interval', '1']);
      const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'counted', inputs: { echo: 'silence', pause: 4 }, execution: { response: 'document' }, owner: 'anonymous' });
      await eventually(() => (job(id)?.status === 'running' ? true : undefined), 10_000, 'job running');
      const silenced = Date.now();
      relay.silence();
      const done = await eventually(() => (job(id)?.status === 'successful' ? job(id) : undefined), 30_000, `job successful (output: ${agent.output()})`);
      const endedMs = Date.now() - silenced;
      expect(done.results).to.deep.equal({ echo: { value: 'silence' } });
      expect(await runsOf(runsFile)).to.deep.equal(new Map([['silence', 1]]));
      expect(agent.output()).to.include('"msg":"the XMPP server answers no ping; dropping the connection to connect anew"');
      const [, back] = logins(agent);
      expect(back?.server).to.equal(first.clientService);
      process.stdout.write(`      (agent back on the other node ${back!.time - silenced} ms after its node fell silent, at --ping-interval 1; job successful at ${endedMs} ms)\n`);
    } finally {
      await relay.close();
    }
  });

  it('moves an agent whose node dies for good to the other node, where its job ends, run once', async function () {
    const [first, second] = ejabberd.nodes;
    const { agent, runsFile } = await spawnBothNodesAgent('failover');
    expect(logins(agent).map((login) => login.server)).to.deep.equal([second.clientService]);
    const { id } = await cluster.orchestrator.lifecycle.submit({ processId: 'counted', inputs: { echo: 'failover', pause: 4 }, execution: { response: 'document' }, owner: 'anonymous' });
    await eventually(() => (job(id)?.status === 'running' ? true : undefined), 10_000, 'job running');
    const killed = Date.now();
    await second.stop(0);
    const done = await eventually(() => (job(id)?.status === 'successful' ? job(id) : undefined), 30_000, `job successful (output: ${agent.output()})`);
    const endedMs = Date.now() - killed;
    expect(done.results).to.deep.equal({ echo: { value: 'failover' } });
    expect(await runsOf(runsFile)).to.deep.equal(new Map([['failover', 1]]));
    const [, back] = logins(agent);
    expect(back?.server).to.equal(first.clientService);
    process.stdout.write(`      (agent back on the other node ${back!.time - killed} ms after the kill; job successful at ${endedMs} ms)\n`);
  });

  it('logs an agent in on the next node when the first of its list is down at its start', async function () {
    const [first] = ejabberd.nodes;
    const { agent } = await spawnBothNodesAgent('next-at-start');
    expect(logins(agent).map((login) => login.server)).to.deep.equal([first.clientService]);
    expect(agent.output()).to.match(/xmpp client cannot reach the server; next attempt in \d+\.\d s/);
  });

  it('gives up on a node whose machine is gone after a ping interval, and logs in on the next', async function () {
    const [first] = ejabberd.nodes;
    const vanished = await startVanishedHost();
    try {
      const { agent } = await spawnBothNodesAgent('vanished', [vanished.service, first.clientService], ['--ping-interval', '1']);
      expect(logins(agent).map((login) => login.server)).to.deep.equal([first.clientService]);
      expect(agent.output()).to.include(`${vanished.service} did not answer within 1 s`);
    } finally {
      await vanished.close();
    }
  });
});
