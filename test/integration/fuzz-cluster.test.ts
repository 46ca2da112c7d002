import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { AGENT_NS, attrsToLoad, decodeAgentMessage } from '../../protocol/index.js';
import { isFinished } from '../../src/store/job-record.js';
import { PING_NS } from '../../xmpp/xmpp-names.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { StoreWatch, expectOneLine, fuzzEdge, watchUnhandledRejections, scaledTimeout } from '../helpers/fuzz.js';
import { TYPED_INPUTS, executeDocuments } from '../helpers/fuzz-inputs.js';
import { problemOf, spec } from '../helpers/http-harness.js';
import { rawAccount } from '../helpers/raw-xmpp.js';
import { AGENT_MESSAGES, messageBodies, presenceAttributes } from '../helpers/wire-samples.js';

/** What the orchestrator stores that a stanza from an agent could change. */
const STORED = ['jobs', 'process_pools', 'agent_accounts'];

// XML 1.0 cannot carry these characters at all; the server, not the orchestrator, would refuse them.
const asXmlText = (text: string) => text.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd');

type Stanza = { kind: 'message'; body: string } | { kind: 'presence'; attrs: Record<string, string> };

/** Messages and presences of every kind, as a rogue agent account would send them. */
function stanzas(): fc.Arbitrary<Stanza> {
  return fc.oneof(
    { arbitrary: messageBodies(AGENT_MESSAGES).map((body): Stanza => ({ kind: 'message', body: asXmlText(body) })), weight: 3 },
    presenceAttributes().map((attrs): Stanza => ({ kind: 'presence', attrs: Object.fromEntries(Object.entries(attrs).map(([name, value]) => [name, asXmlText(value)])) })),
  );
}

const refused = (stanza: Stanza) => (stanza.kind === 'message' ? !decodeAgentMessage(stanza.body).ok : typeof attrsToLoad(stanza.attrs) === 'string');

describe('fuzz: a real orchestrator, Prosody and agent', function () {
  this.timeout(scaledTimeout(60_000));
  const rejections = watchUnhandledRejections();
  let cluster: Cluster;
  let servicesDir: string;
  let rogue: Client;
  let store: StoreWatch;
  let job: string;
  /** The `error` messages the orchestrator answered with, not yet looked at. */
  const refusals: string[] = [];

  const orchestrator = () => cluster.server.prosody.componentDomain;
  /** What the registry holds about the rogue (the good agent's load moves as its jobs end). */
  const registryState = () =>
    JSON.stringify(
      cluster.orchestrator.registry
        .agents()
        .filter((agent) => agent.jid.startsWith('rogue@'))
        .map(({ jid, pool, load, processes, invalid, catalogHash }) => ({ jid, pool, load, processes, invalid, catalogHash })),
    );

  /** Sends one stanza, then waits for the answer to a ping sent after it: the orchestrator has handled it. */
  async function deliver(stanza: Stanza): Promise<void> {
    const to = orchestrator();
    if (stanza.kind === 'message') await rogue.send(xml('message', { to }, xml('body', {}, stanza.body.replaceAll('job-1', job))));
    else await rogue.send(xml('presence', { to }, xml('agent', { xmlns: AGENT_NS, ...stanza.attrs })));
    await rogue.iqCaller.request(xml('iq', { type: 'get', to }, xml('ping', { xmlns: PING_NS })), 5000);
    for (const refusal of refusals.splice(0)) expectOneLine(refusal, "the orchestrator's refusal");
  }

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'noop.properties'), 'service = noop\nexecutable = /bin/echo\ncustomargs = done\n');
    await writeFile(path.join(servicesDir, 'typed.properties'), `service = typed\nexecutable = /bin/echo\ninputs = ${JSON.stringify(TYPED_INPUTS)}\n`);
    await cluster.addAgent('good', servicesDir);
    rogue = await rawAccount(cluster, 'rogue');
    rogue.on('stanza', (stanza: Element) => {
      const body = stanza.is('message') ? stanza.getChildText('body') : null;
      const message = body === null ? undefined : (JSON.parse(body) as { type: string; message: string });
      if (message?.type === 'error') refusals.push(message.message);
    });
    // The rogue offers a process and is given a job of it, so messages can be about a real job.
    const load = { v: '1', catalog: 'h1', slots: '2', running: '0', load1: '0', cores: '2', 'mem-free': '1000' };
    await rogue.send(xml('presence', { to: orchestrator() }, xml('agent', { xmlns: AGENT_NS, ...load })));
    await rogue.send(xml('message', { to: orchestrator() }, xml('body', {}, JSON.stringify({ v: 1, type: 'catalog', hash: 'h1', part: 1, parts: 1, processes: [spec('trap')], invalid: [] }))));
    await eventually(() => cluster.orchestrator.registry.process('trap'), 5000, 'trap offered');
    const response = await cluster.api(`${cluster.orchestrator.url}/processes/trap/execution`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: '{}' });
    job = String(response.headers.get('location')).split('/').pop()!;
    await eventually(() => cluster.orchestrator.jobStore.get(job)?.agent ?? undefined, 5000, 'job dispatched');
    store = new StoreWatch(path.join(cluster.dataDir, 'outpost.db'));
  });
  after(async function () {
    store?.close();
    await rogue?.stop();
    await cluster?.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });
  afterEach(() => rejections.check());

  it('execute: runs every accepted request on the agent to an end, and stores nothing for a refused one', async function () {
    const accepted: string[] = [];
    await fuzzEdge(
      'cluster-execute',
      { runs: 150, timeMs: 4000 },
      fc.asyncProperty(executeDocuments(), async (document) => {
        // Accepted jobs run meanwhile, so what a refusal must leave alone is the set of jobs.
        const jobIds = () => store.contents(['jobs'])['jobs']!.map((row) => (row as { id: string }).id);
        const before = jobIds();
        const response = await cluster.api(`${cluster.orchestrator.url}/processes/typed/execution`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async' },
          body: JSON.stringify(document) ?? '',
        });
        if (response.status === 201) return void accepted.push(String(response.headers.get('location')).split('/').pop()!);
        if (response.status >= 500) throw new Error(`answered ${response.status}: ${await response.text()}`);
        expectOneLine((await problemOf(response)).detail, 'the detail');
        expect(jobIds(), 'the jobs after a refusal').to.deep.equal(before);
      }),
    );
    const jobs = await eventually(() => {
      const all = accepted.map((id) => cluster.orchestrator.jobStore.get(id)!);
      return all.every(isFinished) ? all : undefined;
    }, 30_000, 'every accepted job finished');
    for (const job of jobs) {
      if (job.status !== 'successful') expectOneLine(job.error?.message ?? '', `the failure of ${JSON.stringify(job.inputs).slice(0, 200)}`);
    }
    expect(cluster.orchestrator.registry.process('typed')?.agents, 'the agent offering it').to.have.length(1);
  });

  it('changes nothing for a refused message or presence', async function () {
    const stored = store.contents(STORED);
    const registry = registryState();
    await fuzzEdge(
      'xmpp-refused',
      { runs: 300, timeMs: 4000 },
      fc.asyncProperty(stanzas().filter(refused), async (stanza) => {
        await deliver(stanza);
        expect(registryState(), 'the registry').to.equal(registry);
      }),
    );
    expect(store.contents(STORED), 'the store').to.deep.equal(stored);
  });

  it('stays up and keeps running jobs whatever an agent sends', async function () {
    await fuzzEdge('xmpp-any', { runs: 300, timeMs: 4000 }, fc.asyncProperty(stanzas(), deliver));
    expect((await fetch(`${cluster.orchestrator.url}/healthz`)).status).to.equal(200);
    const response = await cluster.api(`${cluster.orchestrator.url}/processes/noop/execution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).to.equal(200);
    expect((await response.text()).trim()).to.equal('done');
  });
});
