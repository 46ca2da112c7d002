import path from 'node:path';
import { checkInput } from './input-specs.js';
import type { LocalInputSpec, LocalOutputSpec } from './service-definition.js';
import { checkName, fail, withoutUndefined } from './validation.js';

/**
 * Inputs and outputs as WPS Remote declares them, in either of its forms (README, Coming from WPS
 * Remote): a flat file's per-key JSON or a service.config's `[InputN]` / `[OutputN]` section.
 * Values are as written: JSON values from a flat file, strings from a service.config.
 */
export interface WpsInputFields {
  type?: unknown;
  title?: unknown;
  description?: unknown;
  enum?: unknown;
  default?: unknown;
  min?: unknown;
  max?: unknown;
}

export interface WpsOutputFields {
  type?: unknown;
  title?: unknown;
  description?: unknown;
  output_mime_type?: unknown;
  filepath?: unknown;
}

/** Keys of an input or output that WPS Remote reads and Outpost has no use for; listed as notes. */
export const IGNORED_INPUT_KEYS = ['input_mime_type', 'formatter'];
export const IGNORED_OUTPUT_KEYS = [
  'publish_as_layer',
  'publish_default_style',
  'publish_target_workspace',
  'publish_layer_name',
  'publish_metadata',
  'layers_to_publish',
  'backup_on_wps_execution_shared_dir',
  'upload_data',
  'upload_data_root',
];

const INTEGER_TYPES = ['int', 'integer', 'long'];
const NUMBER_TYPES = ['float', 'double', 'number'];
const BOOLEAN_TYPES = ['boolean', 'bool'];
// `url` and `datetime` are checked by WPS Remote against a character set only; JSON and XML are text.
const STRING_TYPES = ['string', 'url', 'datetime', 'application/json', 'application/xml', 'text/xml', 'text/plain'];
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/**
 * The Outpost input for a WPS Remote one. `min`/`max` (default 1 each, as in WPS Remote) become
 * `minOccurs`/`maxOccurs`; an input with `min = 0` or a default is optional. Media types other
 * than JSON, XML and plain text name files, which the client sends (a file input).
 */
export function wpsInput(name: string, fields: WpsInputFields, notes: string[]): LocalInputSpec {
  const subject = `input '${name}'`;
  const wpsType = text(subject, 'type', fields.type);
  const type = inputType(subject, wpsType);
  const min = count(subject, 'min', fields.min, 0) ?? 1;
  const max = count(subject, 'max', fields.max, 1) ?? 1;
  if (min > max) fail(`${subject}: min must not be greater than max`);
  if (type === 'file' && fields.default !== undefined) notes.push(`${subject}: the default of a file input is ignored (the client sends the file)`);
  const defaultValue = fields.default === undefined || type === 'file' ? undefined : scalar(subject, type, fields.default);
  const required = min > 0 && defaultValue === undefined;
  return checkInput(
    name,
    withoutUndefined({
      type,
      title: optionalText(subject, 'title', fields.title),
      description: optionalText(subject, 'description', fields.description),
      enum: fields.enum,
      default: defaultValue,
      required,
      minOccurs: required ? min : 0,
      maxOccurs: max,
      mediaTypes: type === 'file' ? [wpsType] : undefined,
    }),
  ).spec;
}

/**
 * The Outpost output for a WPS Remote one, read from `filepath` once the program has exited:
 * text for `string` and textual types, JSON for `application/json`, a file for other media types.
 * `filepath` is relative to the run's work directory unless absolute (`absolute` says whether an
 * absolute path may be named: only in files the operator alone writes, docs/security.md).
 */
export function wpsOutput(name: string, fields: WpsOutputFields, filepath: string, absolute: boolean): LocalOutputSpec {
  checkName(`output name '${name}'`, name);
  const subject = `output '${name}'`;
  const wpsType = text(subject, 'type', fields.type);
  const mediaType = optionalText(subject, 'output_mime_type', fields.output_mime_type) ?? (MEDIA_TYPE.test(wpsType) ? wpsType : undefined);
  if (mediaType !== undefined && !MEDIA_TYPE.test(mediaType)) fail(`${subject}: '${mediaType}' is not a media type`);
  const lower = wpsType.toLowerCase();
  const type = lower === 'application/json' ? 'json' : STRING_TYPES.includes(lower) ? 'string' : 'file';
  return withoutUndefined({
    type,
    from: outputSource(subject, filepath, absolute),
    mediaType: type === 'file' ? mediaType : undefined,
    title: optionalText(subject, 'title', fields.title),
    description: optionalText(subject, 'description', fields.description),
  });
}

function outputSource(subject: string, filepath: string, absolute: boolean): LocalOutputSpec['from'] {
  if (filepath === '' || filepath.includes('\0')) fail(`${subject}: filepath must name a file`);
  if (path.isAbsolute(filepath)) {
    if (!absolute) fail(`${subject}: filepath must be relative to the run's work directory`);
    return { kind: 'operator-file', path: path.normalize(filepath) };
  }
  const normal = path.posix.normalize(filepath);
  if (normal === '..' || normal.startsWith('../')) fail(`${subject}: filepath must stay inside the run's work directory`);
  if (normal === '.' || normal.endsWith('/')) fail(`${subject}: filepath must name a file`);
  return { kind: 'file', path: normal };
}

function inputType(subject: string, wpsType: string): LocalInputSpec['type'] {
  const lower = wpsType.toLowerCase();
  if (INTEGER_TYPES.includes(lower)) return 'integer';
  if (NUMBER_TYPES.includes(lower)) return 'number';
  if (BOOLEAN_TYPES.includes(lower)) return 'boolean';
  if (STRING_TYPES.includes(lower)) return 'string';
  // Other media types name files: the client sends one inline or by reference (README, Send your own files).
  if (MEDIA_TYPE.test(wpsType)) return 'file';
  return fail(`${subject}: type '${wpsType}' is not one of int, float, string, url, datetime, boolean or a media type`);
}

/** A default as the input's type has it; service.config values are text, so `200` is read as a number there. */
function scalar(subject: string, type: LocalInputSpec['type'], value: unknown): unknown {
  if (typeof value !== 'string' || type === 'string') return value;
  if (type === 'boolean' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (type !== 'boolean' && Number.isFinite(number)) return number;
  return fail(`${subject}: default '${value}' is not ${type === 'boolean' ? 'true or false' : `a number`}`);
}

function count(subject: string, key: string, value: unknown, least: number): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < least) fail(`${subject}: ${key} must be an integer of at least ${least}`);
  return number;
}

function text(subject: string, key: string, value: unknown): string {
  if (value === undefined || value === '') fail(`${subject}: missing '${key}'`);
  if (typeof value !== 'string') fail(`${subject}: '${key}' must be a string`);
  return value;
}

function optionalText(subject: string, key: string, value: unknown): string | undefined {
  return value === undefined ? undefined : text(subject, key, value);
}
