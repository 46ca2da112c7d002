import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InputSpec } from '../../protocol/process-spec.js';
import { inputJsonSchema } from './input-schema.js';
import { isRequired, optionLikeRefusal } from '../../protocol/process-spec.js';
import { linearRegExpEngine } from '../../protocol/linear-regexp.js';

export type InputValidation =
  | { ok: true; values: Record<string, unknown> }
  | { ok: false; message: string; input?: string };

export type InputValidator = (values: unknown) => InputValidation;

// Patterns come from agents: run them in linear time (protocol/linear-regexp.ts).
const ajv = new Ajv({ allErrors: true, strict: true, code: { regExp: linearRegExpEngine } });
const validators = new WeakMap<Record<string, InputSpec>, InputValidator>();

/** Keys besides `value` that OGC 18-062r2 allows on a qualified input value (`qualifiedInputValue`). */
const QUALIFIER_KEYS = new Set(['value', 'mediaType', 'encoding', 'schema']);

/** Structural problems of the whole object come before problems of single values. */
const ROOT_PRIORITY = ['type', 'additionalProperties', 'required'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ "value": x }` stands for `x` (OGC 18-062r2 §7.11.2, qualified input value). */
function unwrap(value: unknown): unknown {
  if (isPlainObject(value) && 'value' in value && Object.keys(value).every((key) => QUALIFIER_KEYS.has(key))) {
    return value['value'];
  }
  return value;
}

function firstError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  for (const keyword of ROOT_PRIORITY) {
    const error = errors.find((e) => e.instancePath === '' && e.keyword === keyword);
    if (error) return error;
  }
  return errors[0];
}

function describe(error: ErrorObject | undefined): { message: string; input?: string } {
  if (!error) return { message: 'inputs are invalid' };
  const params = error.params as Record<string, unknown>;
  if (error.instancePath === '') {
    if (error.keyword === 'additionalProperties') {
      const input = String(params['additionalProperty']);
      return { message: `unknown input '${input}'`, input };
    }
    if (error.keyword === 'required') {
      const input = String(params['missingProperty']);
      return { message: `missing required input '${input}'`, input };
    }
    return { message: 'inputs must be a JSON object' };
  }
  // Input ids match NAME_PATTERN, so the JSON pointer needs no unescaping.
  const input = error.instancePath.slice(1);
  switch (error.keyword) {
    case 'enum':
      return { message: `input '${input}' must be one of: ${(params['allowedValues'] as unknown[]).join(', ')}`, input };
    case 'minLength':
      return { message: `input '${input}' must be at least ${String(params['limit'])} characters long`, input };
    case 'maxLength':
      return { message: `input '${input}' must be at most ${String(params['limit'])} characters long`, input };
    default:
      return { message: `input '${input}' ${error.message ?? 'is invalid'}`, input };
  }
}

function compile(inputs: Record<string, InputSpec>): InputValidator {
  const schema = {
    type: 'object',
    properties: Object.fromEntries(Object.entries(inputs).map(([id, spec]) => [id, inputJsonSchema(spec)])),
    required: Object.entries(inputs).filter(([, spec]) => isRequired(spec)).map(([id]) => id),
    additionalProperties: false,
  };
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } finally {
    // ajv keeps every compiled schema in its own cache; catalogs change over time, the WeakMap suffices.
    ajv.removeSchema(schema);
  }
  return (values) => {
    const unwrapped = isPlainObject(values)
      ? Object.fromEntries(Object.entries(values).map(([id, value]) => [id, unwrap(value)]))
      : values;
    if (!validate(unwrapped)) return { ok: false, ...describe(firstError(validate.errors ?? [])) };
    const valid = unwrapped as Record<string, unknown>;
    const input = optionLikeInput(inputs, valid);
    if (input) return { ok: false, message: optionLikeRefusal(input), input };
    return { ok: true, values: valid };
  };
}

/**
 * The first string value that starts with '-' where the agent has not said the program takes it
 * as a value (`allowDash`, docs/protocol.md InputSpec): passed as an argument of its own, the
 * program would read it as an option.
 */
function optionLikeInput(inputs: Record<string, InputSpec>, values: Record<string, unknown>): string | undefined {
  return Object.keys(values).find((id) => {
    const value = values[id];
    return typeof value === 'string' && value.startsWith('-') && inputs[id]?.allowDash !== true;
  });
}

/**
 * A validator for execute-request inputs of one process. Defaults are not filled in: the
 * agent applies them. Compiled once per inputs object, which is immutable once received.
 * Throws if the declaration itself cannot be compiled (for example an invalid pattern).
 */
export function compileInputValidator(inputs: Record<string, InputSpec>): InputValidator {
  let validator = validators.get(inputs);
  if (!validator) {
    validator = compile(inputs);
    validators.set(inputs, validator);
  }
  return validator;
}
