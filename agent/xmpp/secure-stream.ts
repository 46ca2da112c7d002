import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { checkPlainText, connectVerified, type ServerTrust } from '../../xmpp/server-trust.js';

const STREAMS_NS = 'http://etherx.jabber.org/streams';
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** The parts of @xmpp/connection that STARTTLS has to reach; @xmpp/starttls takes no TLS options. */
interface StreamInternals {
  socket: Duplex;
  options: { domain: string; service: string };
  isSecure(): boolean;
  _onElement(element: Element): void;
  _attachSocket(socket: unknown): void;
  restart(): Promise<unknown>;
  sendReceive(element: Element): Promise<Element>;
  emit(event: 'error', err: Error): boolean;
}

/**
 * RFC 6120 §5 on the agent's terms: stream features reach the client's own handlers only once the
 * stream is encrypted with a server that `trust` accepts, so @xmpp/starttls never runs and no
 * login is offered over a link that stays plain. A server that offers no STARTTLS is refused unless
 * the host of the connection's service is loopback or the agent runs with --insecure.
 */
export function secureStreams(client: Client, trust: ServerTrust): void {
  const entity = client as unknown as StreamInternals;
  const deliver = entity._onElement.bind(entity);
  entity._onElement = (element) => {
    if (!element.is('features', STREAMS_NS) || entity.isSecure()) return deliver(element);
    if (element.getChild('starttls', TLS_NS)) {
      startTls(entity, trust).catch((err: Error) => entity.emit('error', err));
      return;
    }
    try {
      checkPlainText(new URL(entity.options.service).hostname, 'the server offers no STARTTLS: the login and every job to', trust);
    } catch (err) {
      entity.emit('error', err as Error);
      // Closed, so that a refused reconnect is retried later like any lost connection.
      entity.socket.destroy();
      return;
    }
    deliver(element);
  };
}

async function startTls(entity: StreamInternals, trust: ServerTrust): Promise<void> {
  const answer = await entity.sendReceive(xml('starttls', { xmlns: TLS_NS }));
  if (!answer.is('proceed', TLS_NS)) throw new Error('the server refused STARTTLS');
  // RFC 6120 §13.7.2.1: the certificate names the XMPP domain, not the host it was reached at.
  const { domain } = entity.options;
  const secured: TLSSocket & { secure?: boolean } = await connectVerified({ socket: entity.socket, host: domain, servername: domain }, trust);
  // @xmpp/connection calls a stream secure when its socket says so (isSecure).
  secured.secure = true;
  entity._attachSocket(secured);
  await entity.restart();
}
