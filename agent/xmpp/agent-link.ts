import { EventEmitter } from 'node:events';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import { AGENT_NS, decodeOrchestratorMessage, encodeMessage, loadToAttrs, type AgentLoad, type AgentMessage, type OrchestratorMessage } from '../../protocol/index.js';
import { PING_NS, STANZAS_NS, answered } from '../../xmpp/xmpp-names.js';
import { preferFastScram } from './fast-scram-sha1.js';

export interface AgentLinkOptions {
  /** `xmpp://host:port` of the XMPP server's client port. */
  service: string;
  /** Full or bare JID of the agent's account; the resource defaults to `agent`. */
  jid: string;
  password: string;
  /** The orchestrator component's JID. */
  orchestrator: string;
  logger: Logger;
}

export interface AgentLinkEvents {
  /** Connected and authenticated (again, after a reconnect): announce everything anew. */
  online: [];
  offline: [];
  message: [message: OrchestratorMessage];
}


function splitJid(jid: string): { username: string; domain: string; resource: string } {
  const match = /^([^@/]+)@([^/]+)(?:\/(.+))?$/.exec(jid);
  if (!match) throw new Error(`'${jid}' is not a JID of the form name@domain[/resource]`);
  return { username: match[1]!, domain: match[2]!, resource: match[3] ?? 'agent' };
}

/**
 * The agent's XMPP link: an @xmpp/client connection that sends JSON bodies and presence to the
 * orchestrator and emits its validated messages. @xmpp/client reconnects after a fixed delay and
 * a resumed stream does not fire `online`, so `online` here always means "announce again".
 */
export class AgentLink extends EventEmitter<AgentLinkEvents> {
  readonly #xmpp: Client;
  readonly #options: AgentLinkOptions;
  #online = false;

  constructor(options: AgentLinkOptions) {
    super();
    this.#options = options;
    const { username, domain, resource } = splitJid(options.jid);
    this.#xmpp = client({ service: options.service, domain, username, password: options.password, resource });
    preferFastScram((this.#xmpp as unknown as { saslFactory: unknown }).saslFactory);
    this.#xmpp.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'xmpp client error'));
    this.#xmpp.on('online', (address) => {
      this.#online = true;
      options.logger.info({ jid: address.toString() }, 'xmpp client online');
      this.emit('online');
    });
    this.#xmpp.on('offline', () => this.#setOffline());
    this.#xmpp.on('disconnect', () => this.#setOffline());
    // Small stanzas in quick succession must not wait for delayed ACKs (Nagle's algorithm).
    this.#xmpp.on('connect', () => (this.#xmpp as unknown as { socket?: { setNoDelay?: (on: boolean) => void } }).socket?.setNoDelay?.(true));
    this.#xmpp.on('stanza', (stanza: Element) => this.#onStanza(stanza));
  }

  get online(): boolean {
    return this.#online;
  }

  /** The full JID once online. */
  get jid(): string | undefined {
    return this.#xmpp.jid?.toString();
  }

  async start(): Promise<void> {
    await this.#xmpp.start();
  }

  async stop(): Promise<void> {
    this.#xmpp.reconnect.stop();
    if (this.#online) await this.#xmpp.send(xml('presence', { type: 'unavailable', to: this.#options.orchestrator })).catch(() => undefined);
    if (this.#xmpp.status !== 'offline') await this.#xmpp.stop().catch(() => undefined);
    this.#setOffline();
  }

  async send(message: AgentMessage): Promise<void> {
    await this.#xmpp.send(xml('message', { to: this.#options.orchestrator }, xml('body', {}, encodeMessage(message))));
  }

  /** Directed presence to the orchestrator: no subscription needed, and the server reports our departure. */
  async sendPresence(load: AgentLoad): Promise<void> {
    await this.#xmpp.send(xml('presence', { to: this.#options.orchestrator }, xml('agent', { xmlns: AGENT_NS, ...loadToAttrs(load) })));
  }

  /** XEP-0199 ping of the orchestrator; false when it does not answer in time (e.g. it restarts). */
  async pingOrchestrator(timeoutMs: number): Promise<boolean> {
    if (!this.#online) return false;
    return answered(this.#xmpp.iqCaller.request(xml('iq', { type: 'get', to: this.#options.orchestrator }, xml('ping', { xmlns: PING_NS })), timeoutMs));
  }

  #setOffline(): void {
    if (!this.#online) return;
    this.#online = false;
    this.#options.logger.warn('xmpp client offline');
    this.emit('offline');
  }

  #onStanza(stanza: Element): void {
    if (!stanza.is('message')) return;
    const from = stanza.attrs['from'] as string | undefined;
    const body = stanza.getChildText('body');
    if (stanza.attrs['type'] === 'error') {
      this.#options.logger.warn({ from, body, error: stanza.getChild('error')?.toString() }, 'message error from the server or orchestrator');
      return;
    }
    if (from !== this.#options.orchestrator) {
      if (from) this.#replyError(from, stanza, 'not-allowed', 'only the orchestrator may send to an agent');
      return;
    }
    if (body === null) return;
    const decoded = decodeOrchestratorMessage(body);
    if (!decoded.ok) {
      this.#options.logger.warn({ reason: decoded.error }, 'invalid message from the orchestrator');
      this.#replyError(from, stanza, 'bad-request', decoded.error);
      return;
    }
    this.emit('message', decoded.message);
  }

  #replyError(to: string, stanza: Element, condition: 'bad-request' | 'not-allowed', text: string): void {
    const code = condition === 'bad-request' ? 'invalid-message' : 'not-allowed';
    const reply = xml(
      'message',
      { to, type: 'error', id: stanza.attrs['id'] as string | undefined },
      xml('body', {}, encodeMessage({ v: 1, type: 'error', code, message: text.slice(0, 2000) })),
      xml('error', { type: condition === 'bad-request' ? 'modify' : 'cancel' }, xml(condition, { xmlns: STANZAS_NS }), xml('text', { xmlns: STANZAS_NS }, text.slice(0, 2000))),
    );
    this.#xmpp.send(reply).catch(() => undefined);
  }
}
