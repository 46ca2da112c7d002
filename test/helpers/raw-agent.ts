import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import { AGENT_NS, loadToAttrs, type OrchestratorMessage, type ProcessSpec } from '../../src/protocol/index.js';

/** An agent account speaking the protocol by hand, as a hostile or foreign agent would. */
export interface RawAgent {
  jid: string;
  /** Sends presence and a one-part catalog of `processes` (docs/protocol.md §2, §4.1.1). */
  announce(processes: ProcessSpec[], hash?: string): Promise<void>;
  /** Sends one message body as it is: any text, valid or not. */
  sendBody(text: string): Promise<void>;
  /** The next protocol message of `type` the orchestrator sends. */
  next<T extends OrchestratorMessage['type']>(type: T): Promise<Extract<OrchestratorMessage, { type: T }>>;
  stop(): Promise<void>;
}

export async function connectRawAgent(options: { service: string; domain: string; orchestrator: string; name: string; password: string }): Promise<RawAgent> {
  const xmpp: Client = client({ service: options.service, domain: options.domain, username: options.name, password: options.password, resource: 'raw' });
  preferFastScram((xmpp as unknown as { saslFactory: unknown }).saslFactory);
  const received: OrchestratorMessage[] = [];
  const waiting: (() => void)[] = [];
  xmpp.on('stanza', (stanza: Element) => {
    const body = stanza.is('message') ? stanza.getChildText('body') : null;
    if (body === null) return;
    received.push(JSON.parse(body) as OrchestratorMessage);
    for (const wake of waiting.splice(0)) wake();
  });
  await xmpp.start();
  const to = options.orchestrator;
  const sendBody = (text: string) => xmpp.send(xml('message', { to }, xml('body', {}, text)));
  return {
    jid: `${options.name}@${options.domain}/raw`,
    async announce(processes, hash = `h${Date.now()}`) {
      const load = { slots: 4, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: hash, draining: false };
      await xmpp.send(xml('presence', { to }, xml('agent', { xmlns: AGENT_NS, ...loadToAttrs(load) })));
      await sendBody(JSON.stringify({ v: 1, type: 'catalog', hash, part: 1, parts: 1, processes, invalid: [] }));
    },
    sendBody,
    async next(type) {
      for (;;) {
        const index = received.findIndex((m) => m.type === type);
        if (index >= 0) return received.splice(index, 1)[0] as never;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    async stop() {
      await xmpp.stop();
    },
  };
}
