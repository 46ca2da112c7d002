import path from 'node:path';
import { MEDIA_TYPE_PATTERN, OutputSpecSchema, ajv, type OutputSpec, type OutputType } from '../../protocol/index.js';
import type { LocalOutputSpec, OutputFormat, OutputSource } from './service-definition.js';
import { ajvReason, checkName, fail, isJsonObject, parseJsonObject, withoutUndefined } from './validation.js';

const validatePublished = ajv.compile<OutputSpec>(OutputSpecSchema);
const OUTPUT_TYPES: readonly OutputType[] = ['string', 'json', 'file'];
const FILE_PREFIX = 'file:';
const DIRECTORY_PREFIX = 'dir:';
const MEDIA_TYPE = new RegExp(MEDIA_TYPE_PATTERN);
/** A directory output is sent as one zip archive (docs/decisions.md, Outputs and progress). */
export const ARCHIVE_MEDIA_TYPE = 'application/zip';
const SOURCE_RULE = 'must be "stdout", "file:RELATIVE/PATH" or "dir:RELATIVE/PATH/"';

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
  const { from, formats, ...published } = value;
  if (!OUTPUT_TYPES.includes(published['type'] as OutputType)) fail(`${subject}: type must be one of ${OUTPUT_TYPES.join(', ')}`);
  if (!validatePublished(published)) fail(ajvReason(subject, validatePublished.errors));
  // `formats` was taken out above: the service file's form is a map, the published one a list.
  const spec: Published = published;
  if (formats !== undefined) return withFormats(subject, spec, from, formats);
  const source = parseSource(subject, spec.type, from);
  const mediaType = spec.mediaType ?? (source.kind === 'directory' ? ARCHIVE_MEDIA_TYPE : undefined);
  return withoutUndefined({ ...spec, mediaType, from: source });
}

type Published = Omit<OutputSpec, 'formats'>;

/** `"formats": {"image/png": "file:shade.png", "image/tiff": {"from": "file:shade.tif", "args": ["-of", "GTiff"]}}`. */
function withFormats(subject: string, published: Published, from: unknown, raw: unknown): LocalOutputSpec {
  if (published.type !== 'file') fail(`${subject}: only a file output may have 'formats'`);
  if (from !== undefined) fail(`${subject}: with 'formats', each format says where its file is; leave out 'from'`);
  if (!isJsonObject(raw) || Object.keys(raw).length === 0) fail(`${subject}: 'formats' must map at least one media type to how it is produced`);
  const formats: Record<string, OutputFormat> = {};
  for (const [mediaType, how] of Object.entries(raw)) {
    const about = `${subject}, format '${mediaType}'`;
    if (!MEDIA_TYPE.test(mediaType) || mediaType.length > 200) fail(`${about}: not a media type such as image/png`);
    formats[mediaType] = parseFormat(about, how);
  }
  const chosen = published.mediaType ?? Object.keys(formats)[0]!;
  const standard = formats[chosen];
  if (!standard) fail(`${subject}: mediaType '${chosen}' is not one of its formats (${Object.keys(formats).join(', ')})`);
  return { ...published, mediaType: chosen, from: standard.from, formats };
}

function parseFormat(subject: string, how: unknown): OutputFormat {
  if (!isJsonObject(how)) return { from: parseSource(subject, 'file', how), args: [] };
  const { from, args, ...rest } = how;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) fail(`${subject}: unknown member '${unknown}' (a format has 'from' and 'args')`);
  if (args !== undefined && (!Array.isArray(args) || !args.every((word) => typeof word === 'string'))) {
    fail(`${subject}: 'args' must be an array of strings`);
  }
  return { from: parseSource(subject, 'file', from), args: (args as string[] | undefined) ?? [] };
}

function parseSource(subject: string, type: OutputType, from: unknown): OutputSource {
  if (type === 'file' && (from === undefined || from === 'stdout')) {
    fail(`${subject}: a file output must name its file with "from": "file:RELATIVE/PATH" (or a directory with "dir:RELATIVE/PATH/")`);
  }
  if (from === undefined || from === 'stdout') return { kind: 'stdout' };
  if (typeof from === 'string' && from.startsWith(FILE_PREFIX)) return { kind: 'file', path: workDirPath(subject, from.slice(FILE_PREFIX.length)) };
  if (typeof from !== 'string' || !from.startsWith(DIRECTORY_PREFIX)) fail(`${subject}: from ${SOURCE_RULE}`);
  if (type !== 'file') fail(`${subject}: only a file output may come from a directory`);
  return { kind: 'directory', path: workDirPath(subject, from.slice(DIRECTORY_PREFIX.length).replace(/\/+$/, '')) };
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
