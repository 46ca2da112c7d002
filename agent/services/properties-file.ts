import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parseLines } from 'dot-properties';
import { MAX_KEEP_JOBS_SECONDS, type InvalidFile } from '../../protocol/index.js';
import { compileProgressPattern } from '../runner/progress-parser.js';
import { splitCustomArgs } from './custom-args.js';
import { argumentsOf, checkPositions, nativeArgumentList } from './argument-list.js';
import { parseInputs } from './input-specs.js';
import { keepUnknownJsonEscapes, keepUnknownPropertiesEscapes } from './native-escapes.js';
import { checkOptionSafety } from './option-safety.js';
import { resolveConfinedDirs } from './path-inputs.js';
import { defaultOutputs, parseOutputs } from './output-specs.js';
import { ARG_FORMATS, type ArgFormat, type ServiceDefinition } from './service-definition.js';
import { ServiceFileError, checkName, fail, parseJsonObject, withoutUndefined } from './validation.js';

export type ParsedServiceFile =
  /** `notes`: what people should know about the file, such as keys it sets that are ignored. */
  | { status: 'valid'; service: ServiceDefinition; notes?: string[] }
  | { status: 'inactive'; file: string }
  | { status: 'invalid'; invalid: InvalidFile };

const MAX_FILE_BYTES = 256 * 1024;
const DEFAULT_VERSION = '1.0.0';
const DEFAULT_ARG_FORMAT: ArgFormat = '--{key}={value}';
const DEFAULT_TIMEOUT_SECONDS = 3600;
// Node timers overflow beyond 2^31-1 ms and would fire at once.
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const MAX_ID_LENGTH = 200;
const MAX_KEYWORDS = 50;
const MAX_KEYWORD_LENGTH = 100;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const KEYS = [
  'service',
  'namespace',
  'title',
  'description',
  'keywords',
  'version',
  'executable',
  'customargs',
  'argformat',
  'endofoptions',
  'inputs',
  'outputs',
  'progress',
  'timeout',
  'max_parallel',
  'keep_jobs',
  'active',
  'env',
] as const;
export type Key = (typeof KEYS)[number];
/** Values are trimmed; an empty optional value means the same as leaving the key out. */
export type Properties = Partial<Record<Key, string>>;

/**
 * Reads and validates one `services.d` properties file (README, Publish a program). Never throws for a bad or
 * vanished file: that becomes an `invalid` result whose reason names the offending key.
 * A file with `active=false` is not validated further, so a process can be parked while broken.
 */
export async function readServiceFile(dir: string, file: string): Promise<ParsedServiceFile> {
  return asParsed(file, async () => readPropertiesText(dir, file, await readText(path.join(dir, file))));
}

/** A file's result, with a ServiceFileError (a bad or vanished file) as its `invalid` reason. */
export async function asParsed(file: string, read: () => Promise<ParsedServiceFile>): Promise<ParsedServiceFile> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ServiceFileError) return { status: 'invalid', invalid: { file, reason: err.message } };
    throw err;
  }
}

/** Reads the text of a native properties file; throws ServiceFileError. */
export async function readPropertiesText(dir: string, file: string, text: string): Promise<ParsedServiceFile> {
  const properties = parseProperties(text);
  if (!parseFlag('active', properties.active, true)) return { status: 'inactive', file };
  return { status: 'valid', service: await toDefinition(dir, file, properties) };
}

/** A service file's text (BOM removed); throws ServiceFileError for what cannot be read. */
export async function readText(file: string): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    // Non-blocking, so a FIFO given a .properties name cannot hang the scan.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = await handle.stat();
    if (!stat.isFile()) fail('not a regular file');
    if (stat.size > MAX_FILE_BYTES) fail(`file is larger than ${MAX_FILE_BYTES / 1024} KiB`);
    return (await handle.readFile('utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof ServiceFileError) throw err;
    return fail(`cannot read file: ${(err as Error).message}`);
  } finally {
    await handle?.close();
  }
}

function parseProperties(text: string): Properties {
  const found = new Map<Key, string>();
  for (const line of parseLines(keepUnknownPropertiesEscapes(text))) {
    if (!Array.isArray(line)) continue;
    const [key = '', value = ''] = line;
    if (!isKey(key)) fail(`unknown key '${key}'`);
    if (found.has(key)) fail(`key '${key}' is set more than once`);
    found.set(key, value.trim());
  }
  return Object.fromEntries(found);
}

export function isKey(key: string): key is Key {
  return (KEYS as readonly string[]).includes(key);
}

export function parseFlag(key: Key, value: string | undefined, fallback: boolean): boolean {
  if (!value) return fallback;
  const lower = value.toLowerCase();
  if (lower !== 'true' && lower !== 'false') fail(`'${key}' must be true or false`);
  return lower === 'true';
}

export async function toDefinition(dir: string, file: string, p: Properties): Promise<ServiceDefinition> {
  const service = checkName("'service'", required(p, 'service'));
  const namespace = optional(p.namespace, (value) => checkName("'namespace'", value));
  const id = namespace === undefined ? service : `${namespace}:${service}`;
  if (id.length > MAX_ID_LENGTH) fail(`process id '${id}' must be at most ${MAX_ID_LENGTH} characters`);
  const inputs = p.inputs ? parseInputs(keepUnknownJsonEscapes(p.inputs)) : { inputs: {}, placements: {} };
  const plain = withoutUndefined({
    file,
    id,
    title: optional(p.title, (value) => limitText('title', value, 200)),
    description: optional(p.description, (value) => limitText('description', value, 4000)),
    keywords: parseKeywords(p.keywords ?? ''),
    version: limitText('version', p.version || DEFAULT_VERSION, 50),
    executable: await checkExecutable(dir, required(p, 'executable')),
    customArgs: p.customargs ? splitCustomArgs(p.customargs) : [],
    argFormat: p.argformat ? parseArgFormat(p.argformat) : DEFAULT_ARG_FORMAT,
    endOfOptions: optional(p.endofoptions, (value) => parseFlag('endofoptions', value, false)),
    inputs: await resolveConfinedDirs(inputs.inputs),
    outputs: p.outputs ? parseOutputs(keepUnknownJsonEscapes(p.outputs)) : defaultOutputs(),
    progress: optional(p.progress, parseProgress),
    timeoutSeconds: p.timeout ? parseTimeout(p.timeout) : DEFAULT_TIMEOUT_SECONDS,
    maxParallel: optional(p.max_parallel, parseMaxParallel),
    keepJobs: optional(p.keep_jobs, parseKeepJobs),
    env: p.env ? parseEnv(keepUnknownJsonEscapes(p.env)) : {},
  });
  const definition: ServiceDefinition = { ...plain, ...nativeArgumentList(plain, inputs.placements) };
  checkOptionSafety(definition);
  checkPositions(argumentsOf(definition), definition.inputs);
  return definition;
}

function required(p: Properties, key: Key): string {
  const value = p[key];
  if (value === undefined) fail(`missing required key '${key}'`);
  if (value === '') fail(`'${key}' must not be empty`);
  return value;
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value ? parse(value) : undefined;
}

function limitText(key: Key, value: string, max: number): string {
  if (value.length > max) fail(`'${key}' must be at most ${max} characters`);
  return value;
}

function parseKeywords(text: string): string[] {
  const keywords = text
    .split(',')
    .map((keyword) => keyword.trim())
    .filter(Boolean);
  if (keywords.length > MAX_KEYWORDS) fail(`'keywords' must list at most ${MAX_KEYWORDS} keywords`);
  const long = keywords.find((keyword) => keyword.length > MAX_KEYWORD_LENGTH);
  if (long) fail(`keyword '${long}' must be at most ${MAX_KEYWORD_LENGTH} characters`);
  return keywords;
}

export async function checkExecutable(dir: string, value: string): Promise<string> {
  const file = path.resolve(dir, value);
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') fail(`executable '${file}' does not exist`);
    fail(`executable '${file}' cannot be checked: ${err.message}`);
  });
  if (!stat.isFile()) fail(`executable '${file}' is not a regular file`);
  await fs.access(file, constants.X_OK).catch(() => fail(`executable '${file}' is not executable`));
  return file;
}

function parseArgFormat(value: string): ArgFormat {
  const format = ARG_FORMATS.find((candidate) => candidate === value);
  if (!format) fail(`'argformat' must be one of ${ARG_FORMATS.join(', ')}`);
  return format;
}

function parseProgress(source: string): string {
  let groups: number;
  try {
    groups = compileProgressPattern(source).groupCount;
  } catch (err) {
    fail((err as Error).message);
  }
  if (groups < 1) fail("'progress' must be a regular expression with one capture group");
  return source;
}

export function parseTimeout(text: string, key = 'timeout'): number {
  const seconds = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0)) fail(`'${key}' must be a positive number of seconds`);
  if (seconds > MAX_TIMEOUT_SECONDS) fail(`'${key}' must be at most ${MAX_TIMEOUT_SECONDS} seconds`);
  return seconds;
}

function parseMaxParallel(text: string): number {
  const count = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < 1) fail("'max_parallel' must be a positive integer");
  return count;
}

function parseKeepJobs(text: string): number {
  const seconds = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) fail("'keep_jobs' must be a positive whole number of seconds");
  if (seconds > MAX_KEEP_JOBS_SECONDS) fail(`'keep_jobs' must be at most ${MAX_KEEP_JOBS_SECONDS} seconds (ten years)`);
  return seconds;
}

function parseEnv(text: string): Record<string, string> {
  const env = parseJsonObject('env', text, 'a JSON object of strings');
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) fail(`'env' variable name '${name}' must match ${ENV_NAME.source}`);
    if (typeof value !== 'string') fail("'env' must be a JSON object of strings");
    if (value.includes('\0')) fail(`'env' variable '${name}' must not contain a NUL character`);
  }
  return env as Record<string, string>;
}
