import path from 'node:path';
import { OutputSpecSchema, ajv, type OutputSpec, type OutputType } from '../../protocol/index.js';
import type { LocalOutputSpec, OutputSource } from './service-definition.js';
import { ajvReason, checkName, fail, isJsonObject, parseJsonObject } from './validation.js';

const validatePublished = ajv.compile<OutputSpec>(OutputSpecSchema);
const OUTPUT_TYPES: readonly OutputType[] = ['string', 'json', 'file'];
const FILE_PREFIX = 'file:';

/** What a service without `outputs` returns: its stdout as a string named `result`. */
export function defaultOutputs(): Record<string, LocalOutputSpec> {
  return { result: { type: 'string', from: { kind: 'stdout' } } };
}

/** Parses `outputs`: name → where the output is read from, and how it is published. */
export function parseOutputs(text: string): Record<string, LocalOutputSpec> {
  const entries = Object.entries(parseJsonObject('outputs', text));
  if (entries.length === 0) fail("'outputs' must declare at least one output");
  return Object.fromEntries(entries.map(([name, value]) => [name, checkOutput(name, value)]));
}

function checkOutput(name: string, value: unknown): LocalOutputSpec {
  checkName(`output name '${name}'`, name);
  const subject = `output '${name}'`;
  if (!isJsonObject(value)) fail(`${subject} must be a JSON object`);
  const { from, ...published } = value;
  if (!OUTPUT_TYPES.includes(published['type'] as OutputType)) fail(`${subject}: type must be one of ${OUTPUT_TYPES.join(', ')}`);
  if (!validatePublished(published)) fail(ajvReason(subject, validatePublished.errors));
  return { ...published, from: parseSource(subject, published.type, from) };
}

function parseSource(subject: string, type: OutputType, from: unknown): OutputSource {
  if (type === 'file' && (from === undefined || from === 'stdout')) {
    fail(`${subject}: a file output must name its file with "from": "file:RELATIVE/PATH"`);
  }
  if (from === undefined || from === 'stdout') return { kind: 'stdout' };
  if (typeof from !== 'string' || !from.startsWith(FILE_PREFIX)) fail(`${subject}: from must be "stdout" or "file:RELATIVE/PATH"`);
  return { kind: 'file', path: workDirPath(subject, from.slice(FILE_PREFIX.length)) };
}

/** A path relative to the run's work directory, normalised; refuses anything that could leave it. */
function workDirPath(subject: string, raw: string): string {
  const normal = path.posix.normalize(raw);
  if (path.posix.isAbsolute(raw) || normal === '..' || normal.startsWith('../')) {
    fail(`${subject}: path must stay inside the work directory`);
  }
  if (raw === '' || normal === '.' || normal.endsWith('/') || raw.includes('\0')) {
    fail(`${subject}: path must name a file inside the work directory`);
  }
  return normal;
}
