import { EventEmitter } from 'node:events';
import { component, xml, type Component, type XmlElement } from '@xmpp/component';
import type { Logger } from 'pino';
import { AGENT_NS, attrsToLoad, decodeAgentMessage, type AgentLoad, type AgentMessage, type OrchestratorMessage } from '../../protocol/index.js';
import { XmppConnection, errorMessage } from '../../xmpp/connection.js';
import { PING_NS, answered, bareJid } from '../../xmpp/xmpp-names.js';
import { DEFAULT_INVALID_STANZA_LIMIT, InvalidStanzaLimiter, type StanzaLimit } from './invalid-stanza-limiter.js';

export interface ComponentLinkOptions {
  /** `xmpp://host:port` of the XMPP server's component port (XEP-0114). */
  service: string;
  /** The component's JID, e.g. `orchestrator.example.org`. */
  domain: string;
  secret: string;
  /** Whether a bare JID may talk to the orchestrator (allowlist or domain check). */
  isAllowed: (bareJid: string) => boolean;
  logger: Logger;
  /** Invalid stanzas logged and answered per account and window (default DEFAULT_INVALID_STANZA_LIMIT). */
  invalidStanzaLimit?: StanzaLimit;
}

export interface ComponentLinkEvents {
  online: [];
  offline: [];
  presence: [jid: string, load: AgentLoad];
  unavailable: [jid: string];
  message: [jid: string, message: AgentMessage];
  /** The server returned a message we sent to this JID: the agent is not reachable there. */
  bounce: [jid: string];
}

/**
 * A copy of a string cut from a received stanza that keeps nothing else alive. The XML parser cuts
 * attribute values out of the text of a whole socket read, and V8 keeps such a slice as a view of
 * that text: one JID or catalog hash kept in the registry held up to 64 KiB of other agents'
 * stanzas, 29 MiB with 5,000 agents (docs/decisions.md, Fleets). JSON.parse makes a string of its own.
 */
function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/**
 * The orchestrator's XMPP link: a component connection (XEP-0114) that turns presence and JSON
 * bodies from agents into typed events, and answers anything malformed with an error, up to a
 * limit per account (docs/decisions.md, Security); beyond it, malformed stanzas are dropped unlogged.
 */
export class ComponentLink extends EventEmitter<ComponentLinkEvents> {
  readonly #xmpp: Component;
  readonly #options: ComponentLinkOptions;
  readonly #connection: XmppConnection<XmlElement>;
  readonly #invalid: InvalidStanzaLimiter;

  constructor(options: ComponentLinkOptions) {
    super();
    this.#options = options;
    const limit = options.invalidStanzaLimit ?? DEFAULT_INVALID_STANZA_LIMIT;
    this.#invalid = new InvalidStanzaLimiter(limit, (from, suppressed) =>
      options.logger.warn({ from, suppressed, windowMs: limit.windowMs }, 'invalid stanzas suppressed'),
    );
    this.#xmpp = component({ service: options.service, domain: options.domain, password: options.secret });
    this.#connection = new XmppConnection<XmlElement>({
      entity: this.#xmpp,
      xml,
      label: 'xmpp component',
      logger: options.logger,
      from: options.domain,
      onOnline: () => this.emit('online'),
      onOffline: () => this.emit('offline'),
      onStanza: (stanza) => this.#onStanza(stanza),
    });
    // XEP-0199: agents ping the orchestrator to notice its restarts.
    this.#xmpp.iqCallee.get(PING_NS, 'ping', () => ({}));
  }

  get online(): boolean {
    return this.#connection.online;
  }

  get jid(): string {
    return this.#options.domain;
  }

  async start(): Promise<void> {
    await this.#connection.start();
  }

  async stop(): Promise<void> {
    await this.#connection.stop();
    this.#invalid.clear();
  }

  async send(to: string, message: OrchestratorMessage): Promise<void> {
    await this.#connection.sendMessage(to, message);
  }

  /** XEP-0199 ping; resolves false when the agent does not answer in time. */
  async ping(to: string, timeoutMs: number): Promise<boolean> {
    return answered(this.#xmpp.iqCaller.request(xml('iq', { type: 'get', to, from: this.jid }, xml('ping', { xmlns: PING_NS })), timeoutMs));
  }

  #onStanza(stanza: XmlElement): void {
    const sent = stanza.attrs['from'];
    if (!sent) return;
    const from = detached(sent);
    if (stanza.attrs['type'] === 'error') {
      if (stanza.is('message')) this.emit('bounce', from);
      return;
    }
    if (!this.#options.isAllowed(bareJid(from))) {
      if (!this.#invalid.admit(bareJid(from))) return;
      this.#options.logger.warn({ from }, 'stanza from an agent that is not allowed');
      if (stanza.is('message')) this.#connection.replyError(stanza, 'not-allowed', `${bareJid(from)} is not an allowed agent`);
      return;
    }
    if (stanza.is('presence')) this.#onPresence(from, stanza);
    else if (stanza.is('message')) this.#onMessage(from, stanza);
  }

  #onPresence(from: string, stanza: XmlElement): void {
    const type = stanza.attrs['type'];
    if (type === 'unavailable') {
      this.emit('unavailable', from);
      return;
    }
    if (type !== undefined) return;
    const element = stanza.getChild('agent', AGENT_NS);
    if (!element) return;
    const load = attrsToLoad(element.attrs);
    if (typeof load === 'string') {
      if (!this.#invalid.admit(bareJid(from))) return;
      this.#options.logger.warn({ from, reason: load }, 'invalid agent presence');
      this.#sendJsonError(from, 'invalid-message', `presence: ${load}`);
      return;
    }
    this.emit('presence', from, { ...load, catalog: detached(load.catalog) });
  }

  #onMessage(from: string, stanza: XmlElement): void {
    const body = stanza.getChildText('body');
    if (body === null) return;
    const decoded = decodeAgentMessage(body);
    if (!decoded.ok) {
      if (!this.#invalid.admit(bareJid(from))) return;
      this.#options.logger.warn({ from, reason: decoded.error }, 'invalid message from agent');
      this.#connection.replyError(stanza, 'invalid-message', decoded.error);
      return;
    }
    if (decoded.message.type === 'error') {
      this.#options.logger.warn({ from, code: decoded.message.code, reason: decoded.message.message }, 'agent reported an error');
    }
    this.emit('message', from, decoded.message);
  }

  #sendJsonError(to: string, code: 'invalid-message', text: string): void {
    this.send(to, errorMessage(code, text)).catch(() => undefined);
  }
}
