import { component, type Component } from '@xmpp/component';
import { client, xml, type Client } from '@xmpp/client';
import { expect } from 'chai';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import { rawClient } from '../helpers/raw-xmpp.js';
import { skipWithoutEjabberd, startTestEjabberd, type TestEjabberd } from '../helpers/ejabberd.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What several orchestrators on one ejabberd node rely on (docs/scale-out.md): ejabberd 23.01
 * takes several XEP-0114 connections of one component domain and routes each stanza to one of them.
 */
describe('ejabberd: several connections of one component domain, accounts over the HTTP API', function () {
  this.timeout(60_000);
  let server: TestEjabberd;
  let sender: Client;
  const connected: Component[] = [];

  before(async function () {
    skipWithoutEjabberd(this);
    server = await startTestEjabberd();
    const { password } = await server.addAccount('sender');
    sender = await rawClient({ service: server.fabric.clientService, domain: server.fabric.domain, name: 'sender', password });
  });
  after(async function () {
    await sender?.stop();
    await Promise.all(connected.map((c) => c.stop().catch(() => undefined)));
    await server?.stop();
  });

  /** A component connection on the shared domain that counts the messages it is given. */
  async function connect(): Promise<{ entity: Component; bodies: string[] }> {
    const { componentService, componentDomain, componentSecret } = server.fabric;
    const entity = component({ service: componentService, domain: componentDomain, password: componentSecret });
    const bodies: string[] = [];
    entity.on('stanza', (stanza) => {
      if (stanza.is('message')) bodies.push(stanza.getChildText('body') ?? '');
    });
    await entity.start();
    connected.push(entity);
    return { entity, bodies };
  }

  async function sendMessages(prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await sender.send(xml('message', { to: server.fabric.componentDomain }, xml('body', {}, `${prefix}${i}`)));
  }

  async function untilReceived(total: number, ...counters: { bodies: string[] }[]): Promise<void> {
    for (let waited = 0; counters.reduce((sum, c) => sum + c.bodies.length, 0) < total && waited < 5000; waited += 20) await sleep(20);
  }

  it('accepts a second connection of the same domain and gives each stanza to exactly one of them', async function () {
    const first = await connect();
    const second = await connect();
    await sendMessages('m', 60);
    await untilReceived(60, first, second);
    await sleep(200);
    expect([...first.bodies, ...second.bodies].sort()).to.deep.equal(Array.from({ length: 60 }, (_, i) => `m${i}`).sort());
    // Random per stanza: both connections get a share, and neither gets a copy of the other's.
    expect(first.bodies.length).to.be.greaterThan(0);
    expect(second.bodies.length).to.be.greaterThan(0);

    await first.entity.stop();
    first.bodies.length = 0;
    second.bodies.length = 0;
    await sendMessages('after', 20);
    await untilReceived(20, second);
    expect(second.bodies).to.have.length(20);
    expect(first.bodies).to.deep.equal([]);
  });

  it('resets the password of an account registered again, and ends the sessions of a deleted account over the HTTP API', async function () {
    const { fabric } = server;
    await server.addAccount('renewed');
    const { password } = await server.addAccount('renewed');
    const renewed = await rawClient({ service: fabric.clientService, domain: fabric.domain, name: 'renewed', password });
    renewed.reconnect.stop();
    const ended = new Promise<string>((resolve) => renewed.once('error', (error: Error) => resolve(error.message)));
    await server.ejabberd.removeAccount(`renewed@${fabric.domain}`);
    expect(await ended).to.equal('conflict - User removed');
    const again = client({ service: fabric.clientService, domain: fabric.domain, username: 'renewed', password });
    again.reconnect.stop();
    const refused = await again.start().then(
      () => 'logged in',
      (error: Error) => error.message,
    );
    await again.stop().catch(() => undefined);
    expect(refused).to.match(/^not-authorized/);
  });

  it('makes accounts from one XEP-0227 file of SCRAM keys, and refuses in one line an account that exists', async function () {
    const { fabric } = server;
    const login = async (username: string, password: string) => {
      const raw = client({ service: fabric.clientService, domain: fabric.domain, username, password });
      preferFastScram((raw as unknown as { saslFactory: unknown }).saslFactory);
      raw.reconnect.stop();
      const outcome = await raw.start().then(
        () => 'logged in',
        (error: Error) => error.message,
      );
      await raw.stop().catch(() => undefined);
      return outcome;
    };
    await server.ejabberd.importAccounts([
      { username: 'imported-1', password: 'first secret' },
      { username: 'imported-2', password: 'second secret' },
    ]);
    expect(await login('imported-2', 'second secret')).to.equal('logged in');
    expect(await login('imported-1', 'second secret')).to.match(/^not-authorized/);
    const again = await server.ejabberd.importAccounts([{ username: 'imported-1', password: 'another' }]).then(
      () => 'imported',
      (error: Error) => error.message,
    );
    expect(again).to.equal(`ejabberd could not import 1 accounts ("import_failed"): one exists already or has a name it refuses; ${server.ejabberd.options.dir}/ejabberd.log names it`);
    expect(await login('imported-1', 'first secret')).to.equal('logged in');
  });
});
