import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AddressAllowlist, guardedLookup, urlRefusal } from '../../net/address-guard.js';
import { FileInputSchema, acceptsMediaType, ajv, mediaTypeEssence, type FileInput } from '../../protocol/index.js';
import type { ServerTrust } from '../../xmpp/server-trust.js';
import type { ServiceDefinition } from '../services/service-definition.js';
import { bodyText, networkReason, requestOrchestrator } from './orchestrator-http.js';
import { PRIVATE_DIR, PRIVATE_FILE } from './work-dir.js';

/** How far an agent goes for a file input (`--fetch-allow`, `--max-fetch-bytes`, `--fetch-timeout`). */
export interface FetchLimits {
  /** Hosts, addresses and networks that a client's URL may reach although they are private. */
  allow: AddressAllowlist;
  maxBytes: number;
  /** For each file, from the first byte asked to the last one written. */
  timeoutMs: number;
}

export const DEFAULT_MAX_FETCH_BYTES = 1024 ** 3;
export const DEFAULT_FETCH_TIMEOUT_SECONDS = 300;
/** The default limits, with `allow` (comma-separated, as `--fetch-allow` takes it) as the allowlist. */
export const defaultFetchLimits = (allow?: string): FetchLimits => ({
  allow: AddressAllowlist.parse(allow, 'file inputs', '--fetch-allow'),
  maxBytes: DEFAULT_MAX_FETCH_BYTES,
  timeoutMs: DEFAULT_FETCH_TIMEOUT_SECONDS * 1000,
});

/** A file input that cannot be had; the job fails with code `input` and this message, and nothing runs. */
export class InputFetchError extends Error {}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const GENERIC_TYPE = 'application/octet-stream';
const validateFileInput = ajv.compile<FileInput>(FileInputSchema);

interface FetchContext {
  limits: FetchLimits;
  trust: ServerTrust;
  signal: AbortSignal;
}

/**
 * Fetches every file input into `<workDir>/inputs/<name>` and gives the program that path as the
 * input's value (docs/protocol.md, file inputs). The file is removed with the work directory.
 */
export async function fetchFileInputs(
  service: Pick<ServiceDefinition, 'inputs'>,
  inputs: Record<string, unknown>,
  workDir: string,
  context: FetchContext,
): Promise<Record<string, unknown>> {
  const files = Object.keys(service.inputs).filter((name) => service.inputs[name]!.type === 'file' && Object.hasOwn(inputs, name));
  if (files.length === 0) return inputs;
  const folder = path.join(path.resolve(workDir), 'inputs');
  await mkdir(folder, { recursive: true, mode: PRIVATE_DIR });
  const fetched = { ...inputs };
  for (const name of files) {
    const value = inputs[name];
    if (!validateFileInput(value)) throw new InputFetchError(`input '${name}' must be a file reference {"href": URL}`);
    const file = path.join(folder, name);
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(context.limits.timeoutMs)]);
    try {
      const mediaType = value.token === undefined ? await fromClientUrl(name, value, file, context.limits, signal) : await fromOrchestrator(name, value, file, { ...context, signal });
      const accepted = service.inputs[name]!.mediaTypes;
      if (!acceptsMediaType(accepted, mediaType)) {
        throw new InputFetchError(`input '${name}': ${value.href} is ${mediaType}, which the input does not accept; it accepts ${accepted!.join(', ')}`);
      }
    } catch (error) {
      if (context.signal.aborted || error instanceof InputFetchError) throw error;
      if (signal.aborted) throw new InputFetchError(`input '${name}': ${value.href} did not arrive within ${context.limits.timeoutMs / 1000} s`);
      throw new InputFetchError(`input '${name}': ${value.href} could not be fetched: ${networkReason(error)}`);
    }
    fetched[name] = file;
  }
  return fetched;
}

/** A file the client sent inline, from the orchestrator, trusted as uploads are. */
async function fromOrchestrator(name: string, input: FileInput, file: string, context: FetchContext): Promise<string> {
  const headers = { Authorization: `Bearer ${input.token!}` };
  const answer = await requestOrchestrator(new URL(input.href), { method: 'GET', headers, signal: context.signal, what: "the input's token to" }, context.trust);
  if (answer.status !== 200) throw new InputFetchError(`input '${name}': the orchestrator answered HTTP ${answer.status}: ${(await bodyText(answer.body)).slice(0, 300)}`);
  await save(name, input.href, answer.body, undefined, file, context.limits.maxBytes);
  return input.mediaType ?? GENERIC_TYPE;
}

/**
 * A file from the client's own URL: every URL, the redirects' too, is checked against private
 * addresses before it is asked, and again when its name is resolved to connect (docs/security.md, SSRF).
 */
async function fromClientUrl(name: string, input: FileInput, file: string, limits: FetchLimits, signal: AbortSignal): Promise<string> {
  let url = input.href;
  for (let redirects = 0; ; redirects++) {
    const refusal = await urlRefusal(url, limits.allow);
    if (refusal) throw new InputFetchError(`input '${name}': ${url} ${refusal}`);
    const response = await get(new URL(url), limits.allow, signal);
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location) {
      response.resume();
      if (redirects === MAX_REDIRECTS) throw new InputFetchError(`input '${name}': ${input.href} redirects more than ${MAX_REDIRECTS} times`);
      url = new URL(location, url).href;
      continue;
    }
    if (response.statusCode !== 200) {
      response.resume();
      throw new InputFetchError(`input '${name}': ${url} answered HTTP ${response.statusCode}`);
    }
    await save(name, url, response, Number(response.headers['content-length'] ?? Number.NaN), file, limits.maxBytes);
    // A server that does not know the file's type says so with the generic one; the client's word stands then.
    const served = response.headers['content-type'];
    return served === undefined || mediaTypeEssence(served) === GENERIC_TYPE ? input.mediaType ?? served ?? GENERIC_TYPE : served;
  }
}

function get(url: URL, allow: AddressAllowlist, signal: AbortSignal): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(url, { lookup: guardedLookup(allow), signal, headers: { 'user-agent': 'Outpost agent' } }, resolve);
    request.once('error', reject);
  });
}

/** Streams a body to `file`, stopping at `maxBytes` (said up front by Content-Length, or counted). */
async function save(name: string, url: string, body: Readable, declaredBytes: number | undefined, file: string, maxBytes: number): Promise<void> {
  const tooLarge = () => new InputFetchError(`input '${name}': ${url} is larger than the limit of ${maxBytes} bytes (--max-fetch-bytes)`);
  if (declaredBytes !== undefined && declaredBytes > maxBytes) {
    body.destroy();
    throw tooLarge();
  }
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > maxBytes ? tooLarge() : null, chunk);
    },
  });
  await pipeline(body, meter, createWriteStream(file, { flags: 'wx', mode: PRIVATE_FILE }));
}
