import { expect } from 'chai';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { client, xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { component, xml as componentXml, type XmlElement } from '@xmpp/component';
import { XmppConnection, type XmppEntity } from '../../xmpp/connection.js';
import { STANZAS_NS } from '../../xmpp/xmpp-names.js';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';
import { capturingLogger } from '../helpers/logger.js';

interface Peer {
  connection: XmppConnection<Element>;
  entity: XmppEntity<Element> & { jid?: { toString(): string } | null };
  received: Element[];
  onlines: number;
  offlines: number;
  lines: Record<string, unknown>[];
}

/** The socket's TCP_NODELAY as Node last set it; Node keeps it under an internal symbol only. */
function noDelay(entity: unknown): unknown {
  const socket = (entity as { socket: object }).socket;
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay')!;
  return (socket as Record<symbol, unknown>)[symbol];
}

describe('xmpp/connection: the plumbing both links share, over a private Prosody', function () {
  let server: TestProsody;
  const peers: Peer[] = [];

  before(async function () {
    server = await startTestProsody();
  });

  after(async function () {
    await Promise.all(peers.map((peer) => peer.connection.stop()));
    await server?.stop();
  });

  async function connectClient(name: string): Promise<Peer> {
    const { jid, password } = await server.addAccount(name);
    const entity = client({ service: server.prosody.clientService, domain: server.prosody.domain, username: jid.split('@')[0]!, password, resource: 'test' });
    preferFastScram((entity as unknown as { saslFactory: unknown }).saslFactory);
    const { logger, lines } = capturingLogger();
    const peer = { entity: entity as unknown as Peer['entity'], received: [] as Element[], onlines: 0, offlines: 0, lines } as Peer;
    peer.connection = new XmppConnection<Element>({
      entity: peer.entity,
      xml,
      label: 'test client',
      logger,
      onOnline: () => peer.onlines++,
      onOffline: () => peer.offlines++,
      onStanza: (stanza) => peer.received.push(stanza),
    });
    peers.push(peer);
    await peer.connection.start();
    return peer;
  }

  async function nextStanza(peer: Peer, test: (stanza: Element) => boolean): Promise<Element> {
    for (let waited = 0; waited < 5000; waited += 20) {
      const stanza = peer.received.find(test);
      if (stanza) return stanza;
      await sleep(20);
    }
    throw new Error('no such stanza arrived');
  }

  const fullJid = (peer: Peer) => peer.entity.jid!.toString();

  it('goes online once, logs it with its address, and turns off Nagle on the socket', async function () {
    const peer = await connectClient('online');
    expect(peer.connection.online).to.equal(true);
    expect(peer.onlines).to.equal(1);
    expect(peer.lines.find((line) => line['msg'] === 'test client online')).to.include({ jid: fullJid(peer) });
    expect(noDelay(peer.entity)).to.equal(true);
  });

  it('answers a stanza with an RFC 6120 error that also carries the JSON error body, cut to 2000 characters', async function () {
    const [sender, receiver] = await Promise.all([connectClient('sender'), connectClient('receiver')]);
    const text = 'x'.repeat(2500);
    await sender.connection.send(xml('message', { to: fullJid(receiver), id: 'm1' }, xml('body', {}, 'not json')));
    receiver.connection.replyError(await nextStanza(receiver, (s) => s.attrs['id'] === 'm1'), 'invalid-message', text);
    await sender.connection.send(xml('message', { to: fullJid(receiver), id: 'm2' }, xml('body', {}, 'from a stranger')));
    receiver.connection.replyError(await nextStanza(receiver, (s) => s.attrs['id'] === 'm2'), 'not-allowed', 'only the orchestrator may send');

    const invalid = await nextStanza(sender, (s) => s.attrs['id'] === 'm1');
    expect(invalid.attrs).to.include({ type: 'error', from: fullJid(receiver) });
    expect(JSON.parse(invalid.getChildText('body')!)).to.deep.equal({ v: 1, type: 'error', code: 'invalid-message', message: 'x'.repeat(2000) });
    const error = invalid.getChild('error')!;
    expect(error.attrs['type']).to.equal('modify');
    expect(error.getChild('bad-request', STANZAS_NS)).to.not.equal(undefined);
    expect(error.getChildText('text', STANZAS_NS)).to.equal('x'.repeat(2000));

    const refused = await nextStanza(sender, (s) => s.attrs['id'] === 'm2');
    expect(JSON.parse(refused.getChildText('body')!)).to.deep.include({ code: 'not-allowed', message: 'only the orchestrator may send' });
    expect(refused.getChild('error')!.attrs['type']).to.equal('cancel');
    expect(refused.getChild('error')!.getChild('not-allowed', STANZAS_NS)).to.not.equal(undefined);
  });

  it("builds a component's stanzas with its own package's xml and states its address", async function () {
    const agent = await connectClient('to-component');
    const { prosody } = server;
    const entity = component({ service: prosody.componentService, domain: prosody.componentDomain, password: prosody.componentSecret });
    const { logger } = capturingLogger();
    const received: XmlElement[] = [];
    const connection = new XmppConnection<XmlElement>({
      entity,
      xml: componentXml,
      label: 'test component',
      logger,
      from: prosody.componentDomain,
      onOnline: () => undefined,
      onOffline: () => undefined,
      onStanza: (stanza) => received.push(stanza),
    });
    try {
      await connection.start();
      await agent.connection.send(xml('message', { to: prosody.componentDomain, id: 'c1' }, xml('body', {}, '{')));
      for (let waited = 0; received.length === 0 && waited < 5000; waited += 20) await sleep(20);
      connection.replyError(received[0]!, 'invalid-message', 'body is not JSON');
      await connection.sendMessage(fullJid(agent), { v: 1, type: 'catalog-request' });

      const reply = await nextStanza(agent, (s) => s.attrs['id'] === 'c1');
      expect(reply.attrs).to.include({ type: 'error', from: prosody.componentDomain });
      expect(reply.getChild('error')!.getChild('bad-request', STANZAS_NS)).to.not.equal(undefined);
      const request = await nextStanza(agent, (s) => s.getChildText('body')?.includes('catalog-request') === true);
      expect(request.attrs['from']).to.equal(prosody.componentDomain);
    } finally {
      await connection.stop();
    }
  });

  it('stops for good: sends the farewell while online, goes offline once and does not reconnect', async function () {
    const [leaving, staying] = await Promise.all([connectClient('leaving'), connectClient('staying')]);
    await leaving.connection.stop(xml('message', { to: fullJid(staying), id: 'bye' }, xml('body', {}, 'bye')));
    await nextStanza(staying, (s) => s.attrs['id'] === 'bye');
    expect(leaving.connection.online).to.equal(false);
    expect(leaving.offlines).to.equal(1);
    expect(leaving.lines.filter((line) => line['msg'] === 'test client offline')).to.have.length(1);

    // @xmpp/reconnect tries again after one second unless stopped.
    await sleep(1500);
    expect(leaving.entity.status).to.equal('offline');
    expect(leaving.onlines).to.equal(1);
    expect(leaving.offlines).to.equal(1);
  });

  it('goes offline when the server drops the stream, and online again by reconnecting', async function () {
    const peer = await connectClient('dropped');
    const online = once(peer.entity, 'online');
    (peer.entity as unknown as { socket: { destroy(): void } }).socket.destroy();
    await online;
    expect(peer.offlines).to.equal(1);
    expect(peer.onlines).to.equal(2);
    expect(peer.connection.online).to.equal(true);
    expect(peer.lines.map((line) => line['msg'])).to.include.members(['test client offline', 'test client online']);
  });
});
