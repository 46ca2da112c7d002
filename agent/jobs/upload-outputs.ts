import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { FILENAME_PATTERN, type AgentMessage } from '../../protocol/index.js';
import type { LocalOutputValue } from '../runner/run-types.js';
import type { LocalOutputSpec } from '../services/service-definition.js';
import { ServerTrustError, type ServerTrust } from '../../xmpp/server-trust.js';
import { bodyText, networkReason, requestOrchestrator } from './orchestrator-http.js';

type Outputs = Extract<AgentMessage, { type: 'completed' }>['outputs'];
type Reference = Extract<Outputs[string], { href: string }>;

export interface UploadTarget {
  url: string;
  token: string;
}

export interface DeliveryOptions {
  /** From `execute.upload`; without it only values that fit the body can be delivered. */
  upload?: UploadTarget;
  /** Aborting stops the uploads (the job was killed); the promise then rejects. */
  signal: AbortSignal;
  /** The orchestrator is verified as the XMPP server is; plain HTTP goes to loopback only unless insecure. */
  trust?: ServerTrust;
  logger: Logger;
  /** Waits before each retry of a failed upload; the upload fails for good when they run out. */
  retryDelaysMs?: readonly number[];
}

/** Inline values may fill this much of a body; the rest of its 64 KiB is left to the envelope. */
export const INLINE_LIMIT_BYTES = 60 * 1024;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 16_000];
const DEFAULT_FILE_TYPE = 'application/octet-stream';
const SAFE_FILENAME = new RegExp(FILENAME_PATTERN);

/** An output that cannot be delivered; the job fails with code `output` and this message. */
export class DeliveryError extends Error {}

/** What an upload sends: a file of the run, or a value too large for the body. */
type Content = { path: string; size: number } | { bytes: Buffer };

type Answer = { status: number; statusText: string; text: string };

type Attempt = { ok: true; reference: Reference } | { ok: false; transient: boolean; reason: string };

/**
 * The outputs of a `completed` event: files are uploaded over HTTP; values travel inline while
 * they fit the body, and the largest ones are uploaded until the rest fits.
 */
export async function deliverOutputs(outputs: Record<string, LocalOutputValue>, specs: Record<string, LocalOutputSpec>, options: DeliveryOptions): Promise<Outputs> {
  const delivered: Outputs = {};
  const inline: Outputs = {};
  for (const [name, output] of Object.entries(outputs)) {
    if (output.kind === 'file') {
      const reference = await upload(name, { path: output.path, size: output.size }, output.mediaType ?? DEFAULT_FILE_TYPE, options);
      // A name the wire cannot carry is left out; the orchestrator then names the download itself.
      const named = output.filename !== undefined && SAFE_FILENAME.test(output.filename);
      delivered[name] = named ? { ...reference, filename: output.filename } : reference;
    } else {
      inline[name] = { value: output.value };
    }
  }
  const outputsBytes = () => jsonBytes({ ...delivered, ...inline });
  const largestFirst = Object.keys(inline).sort((a, b) => jsonBytes(inline[b]) - jsonBytes(inline[a]));
  for (const name of largestFirst) {
    if (outputsBytes() <= INLINE_LIMIT_BYTES) break;
    if (!options.upload) {
      throw new DeliveryError(`outputs of ${outputsBytes()} bytes are too large to send inline (limit ${INLINE_LIMIT_BYTES}) and the orchestrator gave no upload URL`);
    }
    const { bytes, mediaType } = valueUpload((inline[name] as { value: unknown }).value, specs[name]);
    delivered[name] = await upload(name, { bytes }, mediaType, options);
    delete inline[name];
  }
  if (outputsBytes() > INLINE_LIMIT_BYTES) throw new DeliveryError(`outputs of ${outputsBytes()} bytes are too large to send (limit ${INLINE_LIMIT_BYTES})`);
  return Object.fromEntries(Object.keys(outputs).map((name) => [name, delivered[name] ?? inline[name]!]));
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** A value as uploaded: JSON text for `json` outputs, the text itself for `string` ones. */
function valueUpload(value: unknown, spec: LocalOutputSpec | undefined): { bytes: Buffer; mediaType: string } {
  const json = spec?.type === 'json';
  return {
    bytes: Buffer.from(json ? JSON.stringify(value) : String(value)),
    mediaType: spec?.mediaType ?? (json ? 'application/json' : 'text/plain; charset=utf-8'),
  };
}

/** PUTs one output, retrying network errors and 5xx answers with backoff. */
async function upload(name: string, content: Content, mediaType: string, options: DeliveryOptions): Promise<Reference> {
  if (!options.upload) throw new DeliveryError(`output '${name}' must be uploaded, but the orchestrator gave no upload URL`);
  const url = `${options.upload.url}/${encodeURIComponent(name)}`;
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const result = await attemptUpload(url, options.upload.token, content, mediaType, options.signal, options.trust ?? {});
    if (result.ok) {
      options.logger.info({ output: name, size: result.reference.size, ms: Date.now() - started }, 'output uploaded');
      return result.reference;
    }
    const delay = delays[attempt - 1];
    if (!result.transient || delay === undefined) {
      const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
      throw new DeliveryError(`output '${name}' could not be uploaded to ${url}${tries}: ${result.reason}`);
    }
    options.logger.warn({ output: name, attempt, reason: result.reason, retryInMs: delay }, 'upload failed; retrying');
    await sleep(delay, undefined, { signal: options.signal });
  }
}

async function attemptUpload(url: string, token: string, content: Content, mediaType: string, signal: AbortSignal, trust: ServerTrust): Promise<Attempt> {
  const size = 'bytes' in content ? content.bytes.length : content.size;
  const source = 'bytes' in content ? Readable.from(content.bytes) : createReadStream(content.path);
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const body = pipeline(source, hashing, () => undefined);
  let response: Answer;
  try {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': mediaType, 'Content-Length': String(size) };
    const answer = await requestOrchestrator(new URL(url), { method: 'PUT', headers, body, signal, what: 'the output and its upload token to' }, trust);
    response = { status: answer.status, statusText: answer.statusText, text: await bodyText(answer.body) };
  } catch (error) {
    if (signal.aborted) throw error;
    if (error instanceof ServerTrustError) return { ok: false, transient: false, reason: error.message };
    return { ok: false, transient: true, reason: networkReason(error) };
  } finally {
    source.destroy();
  }
  if (response.status !== 201) {
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    return { ok: false, transient, reason: `HTTP ${response.status}: ${problemDetail(response)}` };
  }
  const stored = parseJson(response.text) as { href?: unknown; size?: unknown; sha256?: unknown };
  const sha256 = hash.digest('hex');
  if (stored.size !== size || stored.sha256 !== sha256) {
    const reason = `the orchestrator stored ${String(stored.size)} bytes with SHA-256 ${String(stored.sha256)}, but sent were ${size} bytes with SHA-256 ${sha256}`;
    return { ok: false, transient: true, reason };
  }
  if (typeof stored.href !== 'string' || stored.href.length > 2000) return { ok: false, transient: false, reason: 'the answer has no usable href' };
  return { ok: true, reference: { href: stored.href, mediaType, size, sha256 } };
}

/** The answer's JSON object, or an empty one when it is none (not JSON, or not an object). */
function parseJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}


/** The `detail` of an RFC 7807 answer, else the start of the body. */
function problemDetail(response: Answer): string {
  const detail = parseJson(response.text)['detail'];
  if (typeof detail === 'string') return detail;
  return response.text.slice(0, 300) || response.statusText;
}
