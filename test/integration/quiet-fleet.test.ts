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
    await sleep(4000);
    expect(slow.requests, 'requests to the agent whose catalog was on its way').to.deep.equal([]);
    expect(lost.requests).to.not.deep.equal([]);
    expect(lost.pings, 'pinged before it was asked').to.not.deep.equal([]);
    expect(lost.requests[0], 'asked for only after it answered a ping').to.be.at.least(lost.pings[0]!);
  });

  it('pings each agent once an interval, spread over it rather than in one burst', async () => {
    cluster = await startCluster({ pingInterval: 1 });
    const fleet = await Promise.all(Array.from({ length: 10 }, (_, i) => handAgent(`fleet-${i}`)));
    await Promise.all(fleet.map((agent) => agent.presence('h').then(() => agent.catalog('h'))));
    // Past the pings that confirmed each catalog: one whole interval of liveness pings.
    await sleep(1200);
    for (const agent of fleet) agent.pings.length = 0;
    await sleep(1000);
    expect(fleet.map((agent) => agent.pings.length), 'pings per agent in one interval').to.deep.equal(fleet.map(() => 1));
    const times = fleet.map((agent) => agent.pings[0]!);
    const spread = Math.max(...times) - Math.min(...times);
    expect(spread, 'ms between the first and the last ping of one interval').to.be.greaterThan(300);
  });
});
