import { expect } from 'chai';
import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { AGENT_NS, loadToAttrs } from '../../protocol/index.js';
import { PING_NS } from '../../xmpp/xmpp-names.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { rawClient } from '../helpers/raw-xmpp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HandAgent {
  xmpp: Client;
  /** When each orchestrator ping arrived. */
  pings: number[];
  /** When each catalog-request arrived. */
  requests: number[];
  presence(hash: string): Promise<void>;
  catalog(hash: string): Promise<void>;
}

describe('a quiet fleet: catalogs asked for only when lost, pings spread over the interval', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  const agents: HandAgent[] = [];

  /** An agent account driven by hand; `beforePong` runs before each ping is answered. */
  const handAgent = async (name: string, beforePong: () => Promise<void> = async () => undefined): Promise<HandAgent> => {
    const { password } = await cluster.addAccount(name);
    const { prosody } = cluster.server;
    const xmpp = await rawClient({ service: prosody.clientService, domain: prosody.domain, name, password });
    const to = prosody.componentDomain;
    const agent: HandAgent = {
      xmpp,
      pings: [],
      requests: [],
      presence: (hash) => xmpp.send(xml('presence', { to }, xml('agent', { xmlns: AGENT_NS, ...loadToAttrs({ slots: 1, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: hash, draining: false }) }))),
      catalog: (hash) => xmpp.send(xml('message', { to }, xml('body', {}, JSON.stringify({ v: 1, type: 'catalog', hash, part: 1, parts: 1, processes: [], invalid: [] })))),
    };
    // @xmpp/client answers pings itself; its answers are held back here, as a busy stream would.
    const pingIds = new Set<string>();
    const send = xmpp.send.bind(xmpp);
    xmpp.send = async (element) => {
      if (element.is('iq') && pingIds.delete(element.attrs['id'] as string)) await beforePong();
      return send(element);
    };
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('iq') && stanza.getChild('ping', PING_NS)) {
        agent.pings.push(Date.now());
        pingIds.add(stanza.attrs['id'] as string);
      }
      if (stanza.is('message') && stanza.getChildText('body')?.includes('"catalog-request"')) agent.requests.push(Date.now());
    });
    agents.push(agent);
    return agent;
  };

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.xmpp.stop()));
    await cluster.stop();
  });

  it('does not ask for a catalog that is still on its way, however late, and asks for one that was lost', async () => {
    // Pings every 5 s: the held answers below must not count as missed liveness pings.
    cluster = await startCluster({ pingInterval: 5 });
    // The catalog leaves 3 s after the presence (a server busy with a fleet's logins), but before the
    // agent's answer to the orchestrator's ping, as stanzas queued behind it would.
    let slowCatalogSent: Promise<void> | undefined;
    const slow = await handAgent('slow', () => (slowCatalogSent ??= sleep(3000).then(() => slow.catalog('h-slow'))));
    const lost = await handAgent('lost');
    await slow.presence('h-slow');
    await lost.presence('h-lost');
    // The first confirming ping leaves a second after the presence; the slow answer 3 s after that.
    await sleep(5000);
    expect(slow.requests, 'requests to the agent whose catalog was on its way').to.deep.equal([]);
    expect(lost.requests).to.not.deep.equal([]);
    expect(lost.pings, 'pinged before it was asked').to.not.deep.equal([]);
    expect(lost.requests[0], 'asked for only after it answered a ping').to.be.at.least(lost.pings[0]!);
  });

  it('pings each agent once an interval, spread over it rather than in one burst', async () => {
    cluster = await startCluster({ pingInterval: 1 });
    const fleet = await Promise.all(Array.from({ length: 10 }, (_, i) => handAgent(`fleet-${i}`)));
    await Promise.all(fleet.map((agent) => agent.presence('h').then(() => agent.catalog('h'))));
    // Past the presence, which spares a ping for one interval: then one whole interval of liveness pings.
    await sleep(2500);
    for (const agent of fleet) agent.pings.length = 0;
    await sleep(1000);
    expect(fleet.map((agent) => agent.pings.length), 'pings per agent in one interval').to.deep.equal(fleet.map(() => 1));
    const times = fleet.map((agent) => agent.pings[0]!);
    const spread = Math.max(...times) - Math.min(...times);
    expect(spread, 'ms between the first and the last ping of one interval').to.be.greaterThan(300);
  });

  it('does not ping an agent whose presence keeps arriving, and pings it once the presence stops', async () => {
    cluster = await startCluster({ pingInterval: 1 });
    const chatty = await handAgent('chatty');
    await chatty.presence('h');
    await chatty.catalog('h');
    const presences = setInterval(() => void chatty.presence('h'), 300);
    await sleep(1200);
    chatty.pings.length = 0;
    await sleep(2000);
    clearInterval(presences);
    expect(chatty.pings, 'pings while presence kept arriving').to.deep.equal([]);
    await sleep(2500);
    expect(chatty.pings.length, 'pings once it fell silent').to.be.greaterThan(0);
  });

  it('sends no confirming ping when the catalog follows its presence', async () => {
    cluster = await startCluster();
    const fleet = await Promise.all(Array.from({ length: 5 }, (_, i) => handAgent(`prompt-${i}`)));
    await Promise.all(fleet.map((agent) => agent.presence('h').then(() => agent.catalog('h'))));
    await sleep(2500);
    expect(fleet.map((agent) => agent.pings.length + agent.requests.length), 'pings and catalog requests per agent').to.deep.equal(fleet.map(() => 0));
  });

  it('registers an agent taken offline for missed pings with its catalog when its presence comes back', async () => {
    cluster = await startCluster({ pingInterval: 1 });
    let answering = true;
    const late = await handAgent('late', () => (answering ? Promise.resolve() : new Promise(() => undefined)));
    await late.presence('h-late');
    await late.catalog('h-late');
    const registered = () => cluster.orchestrator.registry.agents().find((a) => a.jid.startsWith('late@'));
    for (let waited = 0; registered()?.catalogHash !== 'h-late' && waited < 5000; waited += 50) await sleep(50);
    expect(registered()?.catalogHash, 'registered with its catalog').to.equal('h-late');
    answering = false;
    for (let waited = 0; registered() && waited < 8000; waited += 100) await sleep(100);
    expect(registered(), 'taken offline for missed pings').to.equal(undefined);
    await late.presence('h-late');
    await sleep(300);
    expect(registered()?.catalogHash).to.equal('h-late');
    expect(late.requests, 'catalog requests').to.deep.equal([]);
  });
});
