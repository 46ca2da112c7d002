import { Readable } from 'node:stream';
import { OutpostError } from '../errors.js';
import { acceptsMediaType, type FileInput, type InputSpec } from '../../protocol/index.js';
import type { ResultFiles } from '../store/result-files.js';

/** A file sent inline, decoded; it is stored before the job is, and never travels in a stanza. */
export interface InlineFile {
  bytes: Buffer;
  mediaType: string;
}

/** What a job record keeps of a file sent inline: the file itself is in the orchestrator's input store. */
export interface StoredFileInput {
  stored: true;
  mediaType: string;
  size: number;
}

/** Members OGC 18-062r2 allows on a qualified input value (`qualifiedInputValue`) and on a link (`link.yaml`). */
export const QUALIFIER_KEYS = new Set(['value', 'mediaType', 'encoding', 'schema']);
const LINK_KEYS = new Set(['href', 'type', 'rel', 'title', 'hreflang']);
const DEFAULT_MEDIA_TYPE = 'application/octet-stream';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_HREF_LENGTH = 2000;

export type FileValueCheck = { ok: true; value: InlineFile | FileInput } | { ok: false; message: string };

/** Text a JSON string can carry as it is; anything else is sent base64-encoded. */
export function isTextMediaType(mediaType: string): boolean {
  return /^text\/|^application\/(json|xml)\b|\+(json|xml)\b/i.test(mediaType);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the value a client gave file input `id` (OGC 18-062r2 /req/core/process-execute-input-inline-binary, or by reference as a link):
 * a qualified value `{"value", "mediaType", "encoding"}` — base64, or plain text for a text media
 * type — or a link `{"href", "type"}`. The media type must be one the input accepts.
 */
export function checkFileValue(id: string, spec: InputSpec, given: unknown): FileValueCheck {
  const fail = (problem: string): FileValueCheck => ({ ok: false, message: `input '${id}' ${problem}` });
  const shapes = `must be a file: {"value": BASE64, "mediaType": TYPE} or {"href": "https://…"}`;
  if (!isPlainObject(given)) return fail(shapes);
  const keys = Object.keys(given);
  const accepted = spec.mediaTypes;
  const refusedType = (mediaType: string) => fail(`is ${mediaType}, which it does not accept; it accepts ${accepted!.join(', ')}`);

  if ('href' in given && keys.every((key) => LINK_KEYS.has(key))) {
    const { href, type } = given;
    if (typeof href !== 'string' || !/^https?:\/\/[^/]/i.test(href) || href.length > MAX_HREF_LENGTH) {
      return fail(`must have an http or https URL of at most ${MAX_HREF_LENGTH} characters as its href`);
    }
    if (/^https?:\/\/[^/]*@/i.test(href)) return fail('must not carry a user name or password in its href');
    if (type !== undefined && typeof type !== 'string') return fail('must have a media type as its type');
    if (type !== undefined && !acceptsMediaType(accepted, type)) return refusedType(type);
    return { ok: true, value: type === undefined ? { href } : { href, mediaType: type } };
  }
  if (!('value' in given) || !keys.every((key) => QUALIFIER_KEYS.has(key))) return fail(shapes);
  const { value, mediaType, encoding } = given;
  if (typeof value !== 'string') return fail('must have a string as its value (base64, or the text of a text file)');
  if (mediaType !== undefined && typeof mediaType !== 'string') return fail('must have a media type as its mediaType');
  if (mediaType === undefined && accepted !== undefined && accepted.length > 1) return fail(`needs a mediaType: one of ${accepted.join(', ')}`);
  const type = mediaType ?? accepted?.[0] ?? DEFAULT_MEDIA_TYPE;
  if (!acceptsMediaType(accepted, type)) return refusedType(type);
  if (encoding !== undefined && encoding !== 'base64') return fail(`has encoding '${String(encoding)}'; only base64 is understood (or none, for the text of a text file)`);
  if (encoding === undefined && isTextMediaType(type)) return { ok: true, value: { bytes: Buffer.from(value, 'utf8'), mediaType: type } };
  const base64 = value.replace(/\s+/g, '');
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return fail(`is ${type}, so its value must be base64`);
  return { ok: true, value: { bytes: Buffer.from(base64, 'base64'), mediaType: type } };
}

export const isInlineFile = (value: unknown): value is InlineFile => isPlainObject(value) && Buffer.isBuffer(value['bytes']);

/** The inline files taken out of checked inputs, which keep a small note of each in their place. */
export function takeInlineFiles(inputs: Record<string, unknown>): { inputs: Record<string, unknown>; files: Record<string, InlineFile> } {
  const files: Record<string, InlineFile> = {};
  const kept = Object.fromEntries(
    Object.entries(inputs).map(([id, value]) => {
      if (!isInlineFile(value)) return [id, value];
      files[id] = value;
      const note: StoredFileInput = { stored: true, mediaType: value.mediaType, size: value.bytes.length };
      return [id, note];
    }),
  );
  return { inputs: kept, files };
}

/** Stores a job's inline files as `<store>/<jobId>/<inputId>`; one over `maxBytes` (the upload limit) refuses them all. */
export async function storeInlineFiles(store: ResultFiles, jobId: string, files: Record<string, InlineFile>, maxBytes: number): Promise<void> {
  for (const [id, file] of Object.entries(files)) {
    if (file.bytes.length > maxBytes) {
      throw new OutpostError('invalid-input', 400, `input '${id}' is a file of ${file.bytes.length} bytes, over the limit of ${maxBytes} bytes`);
    }
  }
  for (const [id, file] of Object.entries(files)) await store.write(jobId, id, Readable.from([file.bytes]), maxBytes);
}

const isStoredFile = (value: unknown): value is StoredFileInput => isPlainObject(value) && value['stored'] === true;

/** Whether the orchestrator keeps files for these inputs: most jobs have none, and looking for them on disk costs. */
export const hasStoredFiles = (inputs: Record<string, unknown>): boolean => Object.values(inputs).some(isStoredFile);

/**
 * The inputs as the job's agent gets them (docs/protocol.md, file inputs): a stored file becomes
 * the URL it is fetched from, with the job's token; a client's link goes as it is.
 */
export function agentInputs(inputs: Record<string, unknown>, inputsUrl: string, token: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(inputs).map(([id, value]) => {
      if (!isStoredFile(value)) return [id, value];
      const file: FileInput = { href: `${inputsUrl}/${encodeURIComponent(id)}`, mediaType: value.mediaType, token };
      return [id, file];
    }),
  );
}
