import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { encodeMessage, type Message, type OrchestratorMessage } from '../protocol/index.js';
import { backoffDelay, DEFAULT_BACKOFF, isTransient, type Backoff } from './backoff.js';
import { ServerTrustError } from './server-trust.js';
import { STANZAS_NS } from './xmpp-names.js';

/** The part of an @xmpp/client or @xmpp/component connection that both links drive. */
export interface XmppEntity<E> extends EventEmitter {
  status: string;
  /** The server of the current (or last) connection, `xmpp://host:port`. */
  options?: { service?: string };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: E): Promise<unknown>;
  /** @xmpp/reconnect: waits `delay` after each disconnect, then tries again. */
  reconnect: { stop(): void; delay: number };
}

/** The server refused the login: trying again cannot help (a wrong password, no such account). */
export class XmppLoginError extends Error {}

const loginError = (err: Error) => new XmppLoginError(`the server refused the login: ${(err as { condition?: string }).condition ?? err.message}`);

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
  /**
   * The server refused the login on a reconnect (the account was deleted or its password changed):
   * @xmpp would wait on the open stream for ever, so the owner decides what to do.
   */
  onLoginRefused?: (err: XmppLoginError) => void;
  /** Waits between attempts while the server cannot be reached (default 1 s doubling up to 60 s). */
  backoff?: Backoff;
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
  readonly #backoff: Backoff;
  #online = false;
  #stopped = false;
  /** Attempts since the connection was last online. */
  #attempt = 0;
  #lastError: Error | undefined;
  /** While `start` retries by itself, @xmpp/reconnect's attempts are not ours to report. */
  #starting = false;
  #wakeUp: (() => void) | undefined;
  #corked = false;

  constructor(options: XmppConnectionOptions<E>) {
    this.#options = options;
    const { entity, label, logger } = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    entity.reconnect.delay = backoffDelay(0, this.#backoff);
    entity.on('error', (err: Error) => {
      this.#lastError = err;
      // An unreachable server is reported once per attempt, with the next one; a refused login by `start`.
      if (!isTransient(err) && err.name !== 'SASLError') logger.warn({ err: err.message }, `${label} error`);
      if (err.name === 'SASLError' && !this.#starting && !this.#stopped) options.onLoginRefused?.(loginError(err));
    });
    // @xmpp/reconnect has already scheduled the next attempt with `delay`; say when, and wait longer next time.
    entity.on('disconnect', () => {
      if (this.#stopped || this.#starting) return;
      const nextInMs = entity.reconnect.delay;
      logger.warn({ err: this.#lastError?.message, nextInMs }, `${label} disconnected; next attempt in ${seconds(nextInMs)}`);
      entity.reconnect.delay = backoffDelay(++this.#attempt, this.#backoff);
    });
    entity.on('online', (address: { toString(): string }) => {
      this.#attempt = 0;
      entity.reconnect.delay = backoffDelay(0, this.#backoff);
      this.#online = true;
      logger.info({ jid: address.toString(), server: entity.options?.service }, `${label} online`);
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

  /**
   * Connects, trying again with backoff while the server cannot be reached; resolves once online.
   * A refused login rejects with XmppLoginError at once: no number of attempts would help.
   */
  async start(): Promise<void> {
    const { entity, label, logger } = this.#options;
    this.#starting = true;
    try {
      await this.#startWithRetries(entity, label, logger);
    } finally {
      this.#starting = false;
    }
  }

  async #startWithRetries(entity: XmppEntity<E>, label: string, logger: Logger): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await entity.start();
        return;
      } catch (err) {
        if ((err as Error).name === 'SASLError') {
          throw loginError(err as Error);
        }
        // An untrusted server or a plain-text link: nothing is sent, and no retry would change it.
        if (err instanceof ServerTrustError) await this.stop();
        if (!isTransient(err) || this.#stopped) throw err;
        await entity.stop().catch(() => undefined);
        const delay = backoffDelay(attempt, this.#backoff);
        logger.warn({ err: (err as Error).message, nextInMs: delay }, `${label} cannot reach the server; next attempt in ${seconds(delay)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wakeUp = () => (clearTimeout(timer), resolve());
        });
        if (this.#stopped) throw new Error(`${label} stopped before it could connect`);
      }
    }
  }

  /** Stops for good: no reconnect; `farewell` (e.g. unavailable presence) is sent first if online. */
  async stop(farewell?: E): Promise<void> {
    const { entity } = this.#options;
    this.#stopped = true;
    this.#wakeUp?.();
    entity.reconnect.stop();
    if (this.#online && farewell) await entity.send(farewell).catch(() => undefined);
    if (entity.status !== 'offline') await entity.stop().catch(() => undefined);
    this.#setOffline();
  }

  async send(element: E): Promise<void> {
    this.#corkForThisTurn();
    await this.#options.entity.send(element);
  }

  /**
   * The stanzas sent in one turn of the event loop (a placement pass, the acks of one read, the ends
   * of runs reported together) leave in one write: a system call per stanza was the largest cost in
   * the orchestrator's profile and the agent's (docs/decisions.md, Performance). Uncorked before the
   * loop waits for I/O again.
   */
  #corkForThisTurn(): void {
    const socket = (this.#options.entity as unknown as { socket?: Writable | null }).socket;
    if (this.#corked || typeof socket?.cork !== 'function') return;
    this.#corked = true;
    socket.cork();
    setImmediate(() => {
      this.#corked = false;
      socket.uncork();
    });
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

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
