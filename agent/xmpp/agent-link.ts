import { EventEmitter } from 'node:events';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Logger } from 'pino';
import { AGENT_NS, decodeOrchestratorMessage, loadToAttrs, type AgentLoad, type AgentMessage, type OrchestratorMessage } from '../../protocol/index.js';
import { XmppConnection, type XmppEntity, type XmppLoginError } from '../../xmpp/connection.js';
import type { ServerTrust } from '../../xmpp/server-trust.js';
import { PING_NS, answered } from '../../xmpp/xmpp-names.js';
import { preferFastScram } from './fast-scram-sha1.js';
import { secureStreams } from './secure-stream.js';

export interface AgentLinkOptions {
  /** `xmpp://host:port` of the XMPP server's client port; several for the nodes of one cluster, tried in turn. */
  services: string[];
  /** Full or bare JID of the agent's account; the resource defaults to `agent`. */
  jid: string;
  password: string;
  /** The orchestrator component's JID. */
  orchestrator: string;
  /** How the server is verified; by default the system's CAs, and plain text to loopback only. */
  trust?: ServerTrust;
  /** How long a connection attempt may wait for the TCP handshake before the next server is tried. */
  connectTimeoutMs: number;
  logger: Logger;
}

export interface AgentLinkEvents {
  /** Connected and authenticated (again, after a reconnect): announce everything anew. */
  online: [];
  offline: [];
  message: [message: OrchestratorMessage];
  /** The server refused the login on a reconnect: the account is gone or its password changed. */
  'login-refused': [err: XmppLoginError];
}

function splitJid(jid: string): { username: string; domain: string; resource: string } {
  const match = /^([^@/]+)@([^/]+)(?:\/(.+))?$/.exec(jid);
  if (!match) throw new Error(`'${jid}' is not a JID of the form name@domain[/resource]`);
  return { username: match[1]!, domain: match[2]!, resource: match[3] ?? 'agent' };
}

/** What @xmpp/connection's `start` and @xmpp/reconnect connect with: `connect(options.service)`, on `socket`. */
interface Connecting {
  options: { service: string };
  socket: { destroy(err: Error): void } | null;
  connect(service: string): Promise<unknown>;
}

/**
 * The nodes of one cluster in turn (docs/scale-out.md, when an ejabberd node dies): the first
 * connection goes to the first node and stays there while it works; every later one, a reconnect
 * after a loss or another try after a failed attempt, goes to the next node, wrapping around. The
 * waits between attempts stay the link's backoff (xmpp/backoff.ts).
 */
function takeTurns(entity: Connecting, services: string[], connectTimeoutMs: number): void {
  const connect = entity.connect.bind(entity);
  let attempts = 0;
  entity.connect = async () => {
    const service = services[attempts++ % services.length]!;
    // STARTTLS's plain-text check and the logs read the node of this attempt from here.
    entity.options.service = service;
    // A machine that is gone answers no SYN, and the kernel would retry for minutes: a transient failure, tried again on the next node.
    const gone = Object.assign(new Error(`${service} did not answer within ${connectTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
    const timer = setTimeout(() => entity.socket?.destroy(gone), connectTimeoutMs);
    try {
      return await connect(service);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The agent's XMPP link: an @xmpp/client connection that sends JSON bodies and presence to the
 * orchestrator and emits its validated messages. `online` always means "announce again"
 * (xmpp/connection.ts).
 */
export class AgentLink extends EventEmitter<AgentLinkEvents> {
  readonly #xmpp: Client;
  readonly #connection: XmppConnection<Element>;
  readonly #options: AgentLinkOptions;

  constructor(options: AgentLinkOptions) {
    super();
    this.#options = options;
    const { username, domain, resource } = splitJid(options.jid);
    this.#xmpp = client({ service: options.services[0], domain, username, password: options.password, resource });
    takeTurns(this.#xmpp as unknown as Connecting, options.services, options.connectTimeoutMs);
    preferFastScram((this.#xmpp as unknown as { saslFactory: unknown }).saslFactory);
    secureStreams(this.#xmpp, options.trust ?? {});
    this.#connection = new XmppConnection<Element>({
      entity: this.#xmpp as unknown as XmppEntity<Element>,
      xml,
      label: 'xmpp client',
      logger: options.logger,
      onOnline: () => this.emit('online'),
      onOffline: () => this.emit('offline'),
      onStanza: (stanza) => this.#onStanza(stanza),
      onLoginRefused: (err) => this.emit('login-refused', err),
    });
  }

  get online(): boolean {
    return this.#connection.online;
  }

  /** The full JID once online. */
  get jid(): string | undefined {
    return this.#xmpp.jid?.toString();
  }

  async start(): Promise<void> {
    await this.#connection.start();
  }

  async stop(): Promise<void> {
    await this.#connection.stop(xml('presence', { type: 'unavailable', to: this.#options.orchestrator }));
  }

  async send(message: AgentMessage): Promise<void> {
    await this.#connection.sendMessage(this.#options.orchestrator, message);
  }

  /** Directed presence to the orchestrator: no subscription needed, and the server reports our departure. */
  async sendPresence(load: AgentLoad): Promise<void> {
    await this.#connection.send(xml('presence', { to: this.#options.orchestrator }, xml('agent', { xmlns: AGENT_NS, ...loadToAttrs(load) })));
  }

  /** XEP-0199 ping of the orchestrator; false when it does not answer in time (e.g. it restarts). */
  async pingOrchestrator(timeoutMs: number): Promise<boolean> {
    if (!this.online) return false;
    return answered(this.#xmpp.iqCaller.request(xml('iq', { type: 'get', to: this.#options.orchestrator }, xml('ping', { xmlns: PING_NS })), timeoutMs));
  }

  /**
   * XEP-0199 ping of the XMPP server itself; any answer, an error too, shows it alive. False when
   * nothing comes back in time: the node hangs, or the network to it is cut while the socket stays open.
   */
  async pingServer(timeoutMs: number): Promise<boolean> {
    if (!this.online) return false;
    const request = this.#xmpp.iqCaller.request(xml('iq', { type: 'get', to: this.#xmpp.jid?.domain }, xml('ping', { xmlns: PING_NS })), timeoutMs);
    return request.then(
      () => true,
      (err: Error) => err.name === 'StanzaError',
    );
  }

  /** Closes the socket of a server that no longer answers; the link reconnects by itself, to the next server (takeTurns). */
  dropConnection(): void {
    (this.#xmpp as unknown as { socket?: { destroy(): void } }).socket?.destroy();
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
      this.#connection.replyError(stanza, 'not-allowed', 'only the orchestrator may send to an agent');
      return;
    }
    if (body === null) return;
    const decoded = decodeOrchestratorMessage(body);
    if (!decoded.ok) {
      this.#options.logger.warn({ reason: decoded.error }, 'invalid message from the orchestrator');
      this.#connection.replyError(stanza, 'invalid-message', decoded.error);
      return;
    }
    this.emit('message', decoded.message);
  }
}
