import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { AGENT_NS, loadToAttrs, type AgentFeature, type OrchestratorMessage, type ProcessSpec } from '../../protocol/index.js';
import { rawClient, type RawLogin } from './raw-xmpp.js';

/** An agent account speaking the protocol by hand, as a hostile or foreign agent would. */
export interface RawAgent {
  jid: string;
  /** Sends presence and a one-part catalog of `processes` (docs/protocol.md §2, §4.1.1). */
  announce(processes: ProcessSpec[], hash?: string): Promise<void>;
  /** Sends one message body as it is: any text, valid or not. */
  sendBody(text: string): Promise<void>;
  /** The next protocol message of `type` the orchestrator sends; with `timeoutMs`, rejects when none comes in time. */
  next<T extends OrchestratorMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<OrchestratorMessage, { type: T }>>;
  /** The messages of `type` received and not yet taken by `next`. */
  unread<T extends OrchestratorMessage['type']>(type: T): Extract<OrchestratorMessage, { type: T }>[];
  stop(): Promise<void>;
}

/** `features`: what the agent's presence announces (docs/protocol.md §2.1); none by default. */
export async function connectRawAgent(options: RawLogin & { orchestrator: string; features?: AgentFeature[] }): Promise<RawAgent> {
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
      const load = { slots: 4, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: hash, draining: false, features: options.features };
      await xmpp.send(xml('presence', { to }, xml('agent', { xmlns: AGENT_NS, ...loadToAttrs(load) })));
      await sendBody(JSON.stringify({ v: 1, type: 'catalog', hash, part: 1, parts: 1, processes, invalid: [] }));
    },
    sendBody,
    async next(type, timeoutMs) {
      const until = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      for (;;) {
        const index = received.findIndex((m) => m.type === type);
        if (index >= 0) return received.splice(index, 1)[0] as never;
        if (Date.now() >= until) throw new Error(`no ${type} message within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (until !== Infinity) setTimeout(resolve, until - Date.now());
        });
      }
    },
    unread: (type) => received.filter((m) => m.type === type) as never,
    async stop() {
      await xmpp.stop();
    },
  };
}
