import { InputSpecSchema, LinearRegExp, ajv, isRequired, type InputSpec } from '../../protocol/index.js';
import { parseConfinement, splitLocalKeys } from './path-inputs.js';
import type { LocalInputSpec } from './service-definition.js';
import { ajvReason, checkName, fail, isJsonObject, parseJsonObject } from './validation.js';

type InputType = InputSpec['type'];
type Scalar = NonNullable<InputSpec['default']>;

const validateSpec = ajv.compile<InputSpec>(InputSpecSchema);
const INPUT_TYPES: readonly InputType[] = ['string', 'number', 'integer', 'boolean'];
const KIND: Record<InputType, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean' };
const NUMBER_KEYS = ['minimum', 'maximum'] as const;
const STRING_KEYS = ['minLength', 'maxLength', 'pattern', 'allowDash'] as const;

/**
 * Parses `inputs`: name → InputSpec in declaration order, each with `required` set explicitly
 * (an input is required when it has no default, unless it says `required: false`).
 */
export function parseInputs(text: string): Record<string, LocalInputSpec> {
  const declared = parseJsonObject('inputs', text);
  return Object.fromEntries(Object.entries(declared).map(([name, value]) => [name, checkInput(name, value)]));
}

/** Checks one input declaration (a JSON object) of input `name`; throws ServiceFileError with the reason. */
export function checkInput(name: string, value: unknown): LocalInputSpec {
  checkName(`input name '${name}'`, name);
  // JavaScript objects list integer-like keys first, so such names would lose their position.
  if (/^\d+$/.test(name)) fail(`input name '${name}' must not be all digits (its declaration order would be lost)`);
  const subject = `input '${name}'`;
  if (!isJsonObject(value)) fail(`${subject} must be a JSON object`);
  if (!INPUT_TYPES.includes(value['type'] as InputType)) fail(`${subject}: type must be one of ${INPUT_TYPES.join(', ')}`);
  const { published: spec, local } = splitLocalKeys(value);
  if (!validateSpec(spec)) fail(ajvReason(subject, validateSpec.errors));
  checkConstraints(subject, spec);
  const required = isRequired(spec);
  if (required && spec.default !== undefined) fail(`${subject}: a required input cannot have a default`);
  return { ...spec, required, ...parseConfinement(subject, spec.type, local) };
}

function checkConstraints(subject: string, spec: InputSpec): void {
  const numeric = spec.type === 'number' || spec.type === 'integer';
  for (const key of NUMBER_KEYS) {
    if (spec[key] !== undefined && !numeric) fail(`${subject}: ${key} only applies to number and integer inputs`);
  }
  for (const key of STRING_KEYS) {
    if (spec[key] !== undefined && spec.type !== 'string') fail(`${subject}: ${key} only applies to string inputs`);
  }
  if (spec.minimum !== undefined && spec.maximum !== undefined && spec.minimum > spec.maximum) {
    fail(`${subject}: minimum must not be greater than maximum`);
  }
  if (spec.minLength !== undefined && spec.maxLength !== undefined && spec.minLength > spec.maxLength) {
    fail(`${subject}: minLength must not be greater than maxLength`);
  }
  if (spec.pattern !== undefined) {
    try {
      compilePattern(spec.pattern);
    } catch (err) {
      fail(`${subject}: pattern ${(err as Error).message}`);
    }
  }
  for (const value of spec.enum ?? []) {
    if (!hasType(spec.type, value)) fail(`${subject}: enum value ${JSON.stringify(value)} must be ${KIND[spec.type]}`);
  }
  if (spec.default !== undefined) {
    const problem = valueProblem(spec, spec.default);
    if (problem) fail(`${subject}: default ${problem}`);
  }
}

/** Why `value` does not fit the input (a phrase like `must be at least 1`), or undefined when it does. */
function valueProblem(spec: InputSpec, value: unknown): string | undefined {
  if (!hasType(spec.type, value)) return `must be ${KIND[spec.type]}`;
  if (spec.enum && !spec.enum.includes(value as Scalar)) return `must be one of ${spec.enum.map((item) => JSON.stringify(item)).join(', ')}`;
  if (typeof value === 'number') {
    if (spec.minimum !== undefined && value < spec.minimum) return `must be at least ${spec.minimum}`;
    if (spec.maximum !== undefined && value > spec.maximum) return `must be at most ${spec.maximum}`;
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (spec.minLength !== undefined && length < spec.minLength) return `must be at least ${spec.minLength} characters long`;
    if (spec.maxLength !== undefined && length > spec.maxLength) return `must be at most ${spec.maxLength} characters long`;
    if (spec.pattern !== undefined && !compilePattern(spec.pattern).test(value)) return `must match the pattern ${spec.pattern}`;
  }
  return undefined;
}

/** Read as JSON Schema reads `pattern`, and run in linear time like the orchestrator's validation. */
function compilePattern(pattern: string): LinearRegExp {
  return new LinearRegExp(pattern);
}

function hasType(type: InputType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}
