import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { encodeMessage, type Message, type OrchestratorMessage } from '../protocol/index.js';
import { STANZAS_NS } from './xmpp-names.js';

/** The part of an @xmpp/client or @xmpp/component connection that both links drive. */
export interface XmppEntity<E> extends EventEmitter {
  status: string;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: E): Promise<unknown>;
  reconnect: { stop(): void };
}

/**
 * The `xml` of the connection's own package. @xmpp/component 0.13 carries its own copy of
 * @xmpp/xml, so an element built by the other package's `xml` is not one it can send.
 */
export type XmlBuilder<E> = (name: string, attrs?: Record<string, string | undefined>, ...children: (E | string)[]) => E;

/** What the helper reads of a received stanza. */
interface ReceivedStanza {
  attrs: Record<string, unknown>;
}

export interface XmppConnectionOptions<E> {
  entity: XmppEntity<E>;
  xml: XmlBuilder<E>;
  /** Names the connection in logs, e.g. `xmpp client`. */
  label: string;
  logger: Logger;
  /** The address its stanzas are sent from, which a component must state (XEP-0114). */
  from?: string;
  /** Connected and authenticated, also after a reconnect. */
  onOnline: () => void;
  /** Was online and is no longer; called once per loss. */
  onOffline: () => void;
  onStanza: (stanza: E) => void;
}

/** The protocol's error codes a link answers a stanza with. */
export type StanzaErrorCode = 'invalid-message' | 'not-allowed';

/** RFC 6120 §8.3: the stanza error type and defined condition that go with each code. */
const STANZA_ERRORS: Record<StanzaErrorCode, { type: string; condition: string }> = {
  'invalid-message': { type: 'modify', condition: 'bad-request' },
  'not-allowed': { type: 'cancel', condition: 'not-allowed' },
};

/** The longest `message` an `error` body may carry (docs/protocol.md, error). */
const MAX_ERROR_TEXT = 2000;

/** The protocol's JSON `error` message, with its text cut to what the schema allows. */
export function errorMessage(code: StanzaErrorCode, text: string): Message<OrchestratorMessage, 'error'> {
  return { v: 1, type: 'error', code, message: text.slice(0, MAX_ERROR_TEXT) };
}

/**
 * The connection plumbing both XMPP links share: it keeps the online state from the entity's
 * events, logs errors and changes, stops reconnecting once stopped, and answers a bad stanza.
 * @xmpp reconnects after a fixed delay and a resumed stream does not fire `online`, so `onOnline`
 * always means "start afresh".
 */
export class XmppConnection<E extends ReceivedStanza> {
  readonly #options: XmppConnectionOptions<E>;
  #online = false;

  constructor(options: XmppConnectionOptions<E>) {
    this.#options = options;
    const { entity, label, logger } = options;
    entity.on('error', (err: Error) => logger.warn({ err: err.message }, `${label} error`));
    entity.on('online', (address: { toString(): string }) => {
      this.#online = true;
      logger.info({ jid: address.toString() }, `${label} online`);
      options.onOnline();
    });
    entity.on('offline', () => this.#setOffline());
    entity.on('disconnect', () => this.#setOffline());
    // Small stanzas in quick succession must not wait for delayed ACKs (Nagle's algorithm).
    entity.on('connect', () => (entity as unknown as { socket?: { setNoDelay?: (on: boolean) => void } }).socket?.setNoDelay?.(true));
    entity.on('stanza', (stanza: E) => options.onStanza(stanza));
  }

  get online(): boolean {
    return this.#online;
  }

  async start(): Promise<void> {
    await this.#options.entity.start();
  }

  /** Stops for good: no reconnect; `farewell` (e.g. unavailable presence) is sent first if online. */
  async stop(farewell?: E): Promise<void> {
    const { entity } = this.#options;
    entity.reconnect.stop();
    if (this.#online && farewell) await entity.send(farewell).catch(() => undefined);
    if (entity.status !== 'offline') await entity.stop().catch(() => undefined);
    this.#setOffline();
  }

  async send(element: E): Promise<void> {
    await this.#options.entity.send(element);
  }

  /** Sends the protocol's JSON message as a message body. */
  async sendMessage(to: string, message: Parameters<typeof encodeMessage>[0]): Promise<void> {
    const { xml, from } = this.#options;
    await this.send(xml('message', { to, from }, xml('body', {}, encodeMessage(message))));
  }

  /**
   * Answers `stanza` with an RFC 6120 message error (§8.3) that also carries the protocol's JSON
   * `error` body, for a peer that reads only bodies (docs/protocol.md). Best effort: a reply that
   * cannot be sent is dropped.
   */
  replyError(stanza: E, code: StanzaErrorCode, text: string): void {
    const to = stanza.attrs['from'];
    if (typeof to !== 'string' || to === '') return;
    const { xml, from } = this.#options;
    const { type, condition } = STANZA_ERRORS[code];
    const body = errorMessage(code, text);
    const reply = xml(
      'message',
      { to, from, type: 'error', id: stanza.attrs['id'] as string | undefined },
      xml('body', {}, encodeMessage(body)),
      xml('error', { type }, xml(condition, { xmlns: STANZAS_NS }), xml('text', { xmlns: STANZAS_NS }, body.message)),
    );
    this.send(reply).catch(() => undefined);
  }

  #setOffline(): void {
    if (!this.#online) return;
    this.#online = false;
    this.#options.logger.warn(`${this.#options.label} offline`);
    this.#options.onOffline();
  }
}
