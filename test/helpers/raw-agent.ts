import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { AGENT_NS, loadToAttrs, type OrchestratorMessage, type ProcessSpec } from '../../protocol/index.js';
import { rawClient, type RawLogin } from './raw-xmpp.js';

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

export async function connectRawAgent(options: RawLogin & { orchestrator: string }): Promise<RawAgent> {
  const xmpp = await rawClient(options);
  const received: OrchestratorMessage[] = [];
  const waiting: (() => void)[] = [];
  xmpp.on('stanza', (stanza: Element) => {
    const body = stanza.is('message') ? stanza.getChildText('body') : null;
    if (body === null) return;
    received.push(JSON.parse(body) as OrchestratorMessage);
    for (const wake of waiting.splice(0)) wake();
  });
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
