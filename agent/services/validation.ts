import type { ErrorObject } from 'ajv';
import { NAME_PATTERN, SERVICE_FILE_WORDING, describeAjvError, printable } from '../../protocol/index.js';

/** A properties file that cannot be published; the message is the reason people are shown. */
export class ServiceFileError extends Error {}

/** Refuses the file; the reason may quote the file, so it is made one line. */
export function fail(reason: string): never {
  throw new ServiceFileError(printable(reason));
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the JSON text of property `key`, which must hold an object (`shape` words the demand). */
export function parseJsonObject(key: string, text: string, shape = 'a JSON object'): JsonObject {
  let value: unknown;
  try {
    // A literal like 1e400 parses to Infinity, which would travel as null and break the catalog.
    value = JSON.parse(text, (_name, item: unknown) => {
      if (typeof item === 'number' && !Number.isFinite(item)) fail(`'${key}' contains a number too large to represent`);
      return item;
    });
  } catch (err) {
    if (err instanceof ServiceFileError) throw err;
    fail(`'${key}' is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(value)) fail(`'${key}' must be ${shape}`);
  return value;
}

const NAME = new RegExp(NAME_PATTERN);
const NAME_RULE = 'must match [A-Za-z0-9_.-]+ (at most 100 characters)';
// Names end up in URLs, file names and object keys, where these three mean something else.
const RESERVED_NAMES = ['.', '..', '__proto__'];

/** Checks a process, namespace, input or output name; `subject` says which, e.g. `'service'`. */
export function checkName(subject: string, name: string): string {
  if (!NAME.test(name)) fail(`${subject} ${NAME_RULE}`);
  if (RESERVED_NAMES.includes(name)) fail(`${subject} must not be '${name}'`);
  return name;
}

/** One sentence from ajv's first error about `subject`, e.g. `input 'size': /minimum must be number`. */
export function ajvReason(subject: string, errors: ErrorObject[] | null | undefined): string {
  return `${subject}: ${describeAjvError(errors, SERVICE_FILE_WORDING)}`;
}

/** Drops keys whose value is undefined, so optional fields are absent rather than undefined. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
