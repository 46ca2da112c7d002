import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { linearRegExpEngine } from './linear-regexp.js';

/**
 * The one ajv of each program (docs/decisions.md, Fabric). It stops at the first error, as ajv
 * advises for untrusted data, and runs every `pattern` on the linear-time engine, since patterns
 * come from agents (protocol/linear-regexp.ts). `allowUnionTypes` admits `type: ['integer', 'null']`.
 */
export const ajv = new Ajv({ strict: true, allErrors: false, allowUnionTypes: true, code: { regExp: linearRegExpEngine } });
// Only the formats the product's schemas use: each one added costs memory in every agent.
addFormats.default(ajv, ['date-time', 'uri']);

/**
 * How one kind of message words ajv's errors. A template is looked up as `<keyword>@root` (for an
 * error about the whole value), then `<keyword>`, then `default@root`, then `default`; `none`
 * words a failure ajv gave no error for. Placeholders, in braces:
 * - `name`: the value the error is about, `root` or `member(instancePath)`;
 * - `property`: the unknown or missing member, as it is; `propertyName`: the same, named by `member`;
 * - `message`: ajv's own wording, e.g. `must be >= 0`; `limit`: a keyword's limit;
 * - `types`: the allowed types in words (`an integer or null`); `kind`: the value's type in words;
 * - `values`: the allowed values, `a, b`; `quotedValues`: `'a', 'b'`;
 * - `members`: what the caller says the value may have.
 */
export interface AjvWording {
  /** Names the whole value, e.g. `(body)` or `request body`. */
  root: string;
  /** Names a member from its JSON pointer, e.g. `/a/0`, `'a.b'` or `input 'a'`. */
  member: (pointer: string) => string;
  templates: Readonly<Record<string, string>>;
}

/** What the templates may say about the value beyond the error itself. */
export interface AjvErrorContext {
  /** The value validated, for `kind`. */
  value?: unknown;
  /** The members the value may have, for `members`. */
  members?: string;
}

const asPointer = (pointer: string) => pointer;
/** `'outputs.a.transmissionMode'`, the member as a client writes it in JSON. */
export const dottedMember = (pointer: string) => `'${pointer.slice(1).split('/').join('.')}'`;

/** Protocol messages: JSON pointers, ajv's own words (docs/protocol.md). */
export const PROTOCOL_WORDING: AjvWording = {
  root: '(body)',
  member: asPointer,
  templates: { none: 'invalid', additionalProperties: "{name}: unknown property '{property}'", default: '{name} {message}' },
};

/** A part of a properties file, after the caller's subject: the root goes unnamed. */
export const SERVICE_FILE_WORDING: AjvWording = {
  ...PROTOCOL_WORDING,
  templates: { ...PROTOCOL_WORDING.templates, 'additionalProperties@root': "unknown property '{property}'", 'default@root': '{message}' },
};

/** An OGC execute request (OGC 18-062r2 `execute.yaml`). */
export const EXECUTE_REQUEST_WORDING: AjvWording = {
  root: 'the execute request',
  member: dottedMember,
  templates: {
    'additionalProperties@root': "{name} has an unknown member '{property}'; it may have inputs, outputs, response and subscriber",
    additionalProperties: "{name} has an unknown member '{property}'",
    'type@root': 'request body must be a JSON object (an OGC execute request), got {kind}',
    type: '{name} must be {types}',
    enum: '{name} must be one of {quotedValues}',
    format: '{name} must be an absolute URI',
    default: '{name} {message}',
  },
};

/** The JSON body of an admin request. */
export const ADMIN_BODY_WORDING: AjvWording = {
  root: 'request body',
  member: dottedMember,
  templates: {
    'type@root': '{name} must be a JSON object, got {kind}',
    type: '{name} must be {types}',
    required: "{name} must have '{property}'",
    additionalProperties: "{name} has an unknown member '{property}'; it may have {members}",
    enum: '{name} must be one of {quotedValues}',
    minimum: '{name} must be at least {limit}',
    maxLength: '{name} must be at most {limit} characters long',
    default: '{name} {message}',
  },
};

/** The inputs of an execute request, checked against a process's input specs. */
export const INPUTS_WORDING: AjvWording = {
  root: 'inputs',
  // Input ids match NAME_PATTERN, so the JSON pointer needs no unescaping; the rest points inside the value.
  member: (pointer) => {
    const [id, ...inside] = pointer.slice(1).split('/');
    return inside.length === 0 ? `input '${id}'` : `input '${id}' at /${inside.join('/')}`;
  },
  templates: {
    none: 'inputs are invalid',
    'additionalProperties@root': "unknown input '{property}'",
    'required@root': "missing required input '{property}'",
    'default@root': '{name} must be a JSON object',
    enum: '{name} must be one of: {values}',
    minLength: '{name} must be at least {limit} characters long',
    maxLength: '{name} must be at most {limit} characters long',
    minItems: '{name} must have at least {limit} values',
    maxItems: '{name} must have at most {limit} values',
    default: '{name} {message}',
  },
};

/** `an integer or null`. */
function typesInWords(types: string | string[]): string {
  const inWords = (type: string) => {
    if (type === 'null') return 'null';
    if (type === 'object') return 'a JSON object';
    return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  };
  return ([] as string[]).concat(types).map(inWords).join(' or ');
}

function kindInWords(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function templateFor(wording: AjvWording, error: ErrorObject | undefined): string {
  const { templates } = wording;
  if (!error) return templates['none'] ?? '{name} is invalid';
  const atRoot = error.instancePath === '';
  const keys = atRoot ? [`${error.keyword}@root`, error.keyword, 'default@root', 'default'] : [error.keyword, 'default'];
  const key = keys.find((candidate) => templates[candidate] !== undefined);
  return key === undefined ? '{name} {message}' : templates[key]!;
}

/** One sentence, in `wording`, about ajv's first error. */
export function describeAjvError(errors: readonly ErrorObject[] | null | undefined, wording: AjvWording, context: AjvErrorContext = {}): string {
  const error = errors?.[0];
  const params = (error?.params ?? {}) as Record<string, unknown>;
  const property = String(params['additionalProperty'] ?? params['missingProperty'] ?? '');
  const allowed = (params['allowedValues'] ?? []) as unknown[];
  const fields: Record<string, () => string> = {
    name: () => (error && error.instancePath !== '' ? wording.member(error.instancePath) : wording.root),
    property: () => property,
    propertyName: () => wording.member(`/${property}`),
    message: () => error?.message ?? 'is invalid',
    limit: () => String(params['limit']),
    types: () => typesInWords(params['type'] as string | string[]),
    kind: () => kindInWords(context.value),
    values: () => allowed.join(', '),
    quotedValues: () => allowed.map((value) => `'${String(value)}'`).join(', '),
    members: () => context.members ?? '',
  };
  return printable(templateFor(wording, error).replace(/\{(\w+)\}/g, (placeholder, field: string) => fields[field]?.() ?? placeholder));
}

/**
 * `text` with line breaks and other control characters escaped as JSON escapes them, so that a
 * refusal quoting what a sender wrote stays one line in logs, headers and error bodies.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c < ' ' ? JSON.stringify(c).slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
