import https from 'node:https';
import net from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { checkPlainText, connectVerified, type ServerTrust } from '../../xmpp/server-trust.js';

/** An answer of the orchestrator, its body still to be read. */
export interface OrchestratorAnswer {
  status: number;
  statusText: string;
  body: Readable;
}

export interface OrchestratorRequest {
  method: 'GET' | 'PUT';
  headers: Record<string, string>;
  body?: Readable;
  signal: AbortSignal;
  /** What would travel, for the refusal of plain text (e.g. `the output and its upload token to`). */
  what: string;
}

/**
 * A request to the orchestrator, which is verified as the XMPP link verifies the server
 * (docs/security.md, the network): plain HTTP only to loopback unless insecure. fetch takes no
 * TLS options, so HTTPS goes through node:https on a connection made and verified with `trust`
 * before the token is written.
 */
export async function requestOrchestrator(url: URL, request: OrchestratorRequest, trust: ServerTrust): Promise<OrchestratorAnswer> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'https:') return httpsRequest(url, host, request, trust);
  checkPlainText(host, request.what, trust);
  const { method, headers, body, signal } = request;
  const response = await fetch(url, { method, headers, signal, ...(body && { body: Readable.toWeb(body) as ReadableStream<Uint8Array>, duplex: 'half' }) });
  const stream = response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
  return { status: response.status, statusText: response.statusText, body: stream };
}

async function httpsRequest(url: URL, host: string, request: OrchestratorRequest, trust: ServerTrust): Promise<OrchestratorAnswer> {
  const socket = await connectVerified({ host, port: Number(url.port || 443), ...(net.isIP(host) ? {} : { servername: host }) }, trust);
  return new Promise((resolve, reject) => {
    const outgoing = https.request(url, { method: request.method, headers: request.headers, signal: request.signal, createConnection: () => socket }, (response) => {
      resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', body: response });
    });
    outgoing.once('error', reject);
    if (request.body) pipeline(request.body, outgoing, (err) => err && outgoing.destroy(err));
    else outgoing.end();
  });
}

/** The whole body as text; an answer cut short gives what arrived. */
export async function bodyText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  } catch {
    // What arrived is all there is.
  }
  return Buffer.concat(chunks).toString();
}

/** A network error's message with its cause's, which fetch keeps apart. */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } }).cause?.message;
  return `${(error as Error).message}${typeof cause === 'string' ? ` (${cause})` : ''}`;
}
