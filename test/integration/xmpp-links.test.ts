import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { ComponentLink } from '../../src/xmpp/component-link.js';
import { AgentLink } from '../../agent/xmpp/agent-link.js';
import type { AgentLoad, AgentMessage } from '../../protocol/index.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';
import { testLogger } from '../helpers/logger.js';

const load: AgentLoad = { slots: 2, running: 0, load1: 0.1, cores: 2, memFree: 1000, catalog: 'abc', draining: false };

describe('XMPP links over a private Prosody', function () {
  let server: TestProsody;
  let component: ComponentLink;
  const agents: AgentLink[] = [];

  before(async function () {
    server = await startTestProsody();
    const { prosody } = server;
    component = new ComponentLink({
      service: prosody.componentService,
      domain: prosody.componentDomain,
      secret: prosody.componentSecret,
      isAllowed: (jid) => jid.endsWith(`@${prosody.domain}`),
      logger: testLogger,
    });
    await component.start();
  });

  after(async function () {
    await Promise.all(agents.map((a) => a.stop()));
    await component?.stop();
    await server?.stop();
  });

  async function connectAgent(name: string): Promise<AgentLink> {
    const { jid, password } = await server.addAccount(name);
    const link = new AgentLink({
      services: [server.prosody.clientService],
      connectTimeoutMs: 10_000,
      jid,
      password,
      orchestrator: server.prosody.componentDomain,
      logger: testLogger,
    });
    agents.push(link);
    await link.start();
    return link;
  }

  it('logs an agent in quickly with SCRAM-SHA-1', async function () {
    const started = Date.now();
    const link = await connectAgent('fast');
    expect(link.online).to.equal(true);
    // The bundled JavaScript PBKDF2 takes seconds; native PBKDF2 keeps login well under a second.
    expect(Date.now() - started).to.be.below(1000);
  });

  it('carries presence load and JSON bodies from agent to orchestrator, and reports departure', async function () {
    const link = await connectAgent('carrier');
    const presence = once(component, 'presence');
    await link.sendPresence(load);
    const [jid, received] = await presence;
    expect(jid).to.equal(link.jid);
    expect(received).to.deep.equal(load);

    const message = once(component, 'message');
    const sent: AgentMessage = { v: 1, type: 'accepted', job: 'j1', seq: 1 };
    await link.send(sent);
    expect(await message).to.deep.equal([link.jid, sent]);

    const gone = once(component, 'unavailable');
    await link.stop();
    expect(await gone).to.deep.equal([jid]);
  });

  it('carries messages from orchestrator to agent and answers pings both ways', async function () {
    const link = await connectAgent('listener');
    const message = once(link, 'message');
    await component.send(link.jid!, { v: 1, type: 'catalog-request' });
    expect(await message).to.deep.equal([{ v: 1, type: 'catalog-request' }]);
    expect(await link.pingOrchestrator(2000)).to.equal(true);
    expect(await component.ping(link.jid!, 2000)).to.equal(true);
  });

  it('sends the messages of one turn of the event loop in one write, in order', async function () {
    const link = await connectAgent('batch');
    const received: unknown[] = [];
    const all = new Promise<void>((resolve) => link.on('message', (message) => void (received.push(message) === 50 && resolve())));
    const writesBefore = writeCalls();
    await Promise.all(Array.from({ length: 50 }, (_, i) => component.send(link.jid!, { v: 1, type: 'kill', job: `j${i}` })));
    const writes = writeCalls() - writesBefore;
    await all;
    expect(received).to.deep.equal(Array.from({ length: 50 }, (_, i) => ({ v: 1, type: 'kill', job: `j${i}` })));
    expect(writes).to.be.at.most(2);
  });

  it('sends an agent’s messages of one turn in one write, in order', async function () {
    const link = await connectAgent('reporter');
    const sent: AgentMessage[] = Array.from({ length: 50 }, (_, i) => ({ v: 1, type: 'accepted', job: `r${i}`, seq: 1 }));
    const received: unknown[] = [];
    const all = new Promise<void>((resolve) => {
      component.on('message', (jid, message) => void (jid === link.jid && received.push(message) === 50 && resolve()));
    });
    const writesBefore = writeCalls();
    await Promise.all(sent.map((message) => link.send(message)));
    const writes = writeCalls() - writesBefore;
    await all;
    expect(received).to.deep.equal(sent);
    expect(writes).to.be.at.most(2);
  });
});

/** Write system calls this process has made (Linux). */
function writeCalls(): number {
  return Number(/^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}
