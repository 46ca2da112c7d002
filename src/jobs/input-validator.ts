import type { ErrorObject, ValidateFunction } from 'ajv';
import type { InputSpec } from '../../protocol/process-spec.js';
import { QUALIFIER_KEYS, checkFileValue, isPlainObject } from './file-inputs.js';
import { inputJsonSchema } from './input-schema.js';
import { isArrayInput, isRequired, optionLikeRefusal } from '../../protocol/process-spec.js';
import { INPUTS_WORDING, ajv, describeAjvError } from '../../protocol/validation.js';

export type InputValidation =
  | { ok: true; values: Record<string, unknown> }
  | { ok: false; message: string; input?: string };

export type InputValidator = (values: unknown) => InputValidation;

const validators = new WeakMap<Record<string, InputSpec>, InputValidator>();
/**
 * Validators by the declarations' JSON text, newest last: every agent of a fleet sends its own copy
 * of the same declarations, and compiling one costs about a millisecond of the execute request.
 */
const byText = new Map<string, InputValidator>();
const SHARED_VALIDATORS = 1000;

/**
 * `{ "value": x }` stands for `x` (OGC 18-062r2 §7.11.2, qualified input value). A JSON object
 * input may itself hold a `value` member, so for it the qualified form must say more than `value`.
 */
function unwrap(value: unknown, objectInput = false): unknown {
  if (!isPlainObject(value) || !('value' in value) || !Object.keys(value).every((key) => QUALIFIER_KEYS.has(key))) return value;
  return objectInput && Object.keys(value).length === 1 ? value : value['value'];
}

/** An array input also takes one bare value, as a one-value array (OGC 18-062r2 §7.11.2.2); a file keeps its qualifiers. */
function normalize(spec: InputSpec | undefined, value: unknown): unknown {
  if (spec?.type === 'file') return value;
  const unwrapped = unwrap(value, spec?.type === 'object');
  if (!spec || !isArrayInput(spec)) return unwrapped;
  return Array.isArray(unwrapped) ? unwrapped.map((item) => unwrap(item)) : [unwrapped];
}

/**
 * The shared ajv stops at its first error and checks `required` before `additionalProperties`;
 * an unknown input is named first all the same, since it is often a missing one misspelt.
 */
function unknownInputError(inputs: Record<string, InputSpec>, values: Record<string, unknown>): ErrorObject | undefined {
  const input = Object.keys(values).find((id) => !Object.hasOwn(inputs, id));
  if (input === undefined) return undefined;
  return { keyword: 'additionalProperties', instancePath: '', schemaPath: '#/additionalProperties', params: { additionalProperty: input } };
}

function describe(error: ErrorObject | undefined): { message: string; input?: string } {
  const message = describeAjvError(error && [error], INPUTS_WORDING);
  if (!error) return { message };
  const params = error.params as Record<string, unknown>;
  const input = error.instancePath === '' ? params['additionalProperty'] ?? params['missingProperty'] : error.instancePath.split('/')[1];
  return input === undefined ? { message } : { message, input: String(input) };
}

function compile(inputs: Record<string, InputSpec>): InputValidator {
  const schema = {
    type: 'object',
    // File values are read by checkFileValue, which words their errors better than a oneOf can.
    properties: Object.fromEntries(Object.entries(inputs).map(([id, spec]) => [id, spec.type === 'file' ? {} : inputJsonSchema(spec)])),
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
      ? Object.fromEntries(Object.entries(values).map(([id, value]) => [id, normalize(Object.hasOwn(inputs, id) ? inputs[id] : undefined, value)]))
      : values;
    const unknown = isPlainObject(unwrapped) ? unknownInputError(inputs, unwrapped) : undefined;
    if (unknown || !validate(unwrapped)) return { ok: false, ...describe(unknown ?? validate.errors?.[0]) };
    const valid = { ...(unwrapped as Record<string, unknown>) };
    for (const [id, spec] of Object.entries(inputs)) {
      if (spec.type !== 'file' || !Object.hasOwn(valid, id)) continue;
      const file = checkFileValue(id, spec, valid[id]);
      if (!file.ok) return { ok: false, message: file.message, input: id };
      valid[id] = file.value;
    }
    const input = optionLikeInput(inputs, valid);
    if (input) return { ok: false, message: optionLikeRefusal(input), input };
    return { ok: true, values: valid };
  };
}

/**
 * The first input with a string value (or, for an array input, a string item) that starts with '-'
 * where the agent has not said the program takes it as a value (`allowDash`, docs/protocol.md
 * InputSpec): passed as an argument of its own, the program would read it as an option.
 */
function optionLikeInput(inputs: Record<string, InputSpec>, values: Record<string, unknown>): string | undefined {
  return Object.keys(values).find((id) => {
    if (inputs[id]?.type !== 'string' || inputs[id]?.allowDash === true) return false;
    return ([] as unknown[]).concat(values[id]).some((value) => typeof value === 'string' && value.startsWith('-'));
  });
}

/**
 * A validator for execute-request inputs of one process. Defaults are not filled in: the
 * agent applies them. Compiled once per declaration, kept per inputs object (immutable once received).
 * Throws if the declaration itself cannot be compiled (for example an invalid pattern).
 */
export function compileInputValidator(inputs: Record<string, InputSpec>): InputValidator {
  let validator = validators.get(inputs);
  if (validator) return validator;
  const text = JSON.stringify(inputs);
  validator = byText.get(text);
  if (validator) byText.delete(text);
  else validator = compile(inputs);
  byText.set(text, validator);
  if (byText.size > SHARED_VALIDATORS) byText.delete(byText.keys().next().value!);
  validators.set(inputs, validator);
  return validator;
}
