import { InputSpecSchema, ajv, isArrayInput, isRequired, type InputSpec } from '../../protocol/index.js';
import { parsePlacement, type InputPlacement } from './argument-list.js';
import { KIND_IN_WORDS, compilePattern, hasType, valueProblem } from './input-values.js';
import { parseConfinement, splitLocalKeys } from './path-inputs.js';
import type { LocalInputSpec } from './service-definition.js';
import { ajvReason, checkName, fail, isJsonObject, parseJsonObject } from './validation.js';

type InputType = InputSpec['type'];

const validateSpec = ajv.compile<InputSpec>(InputSpecSchema);
const INPUT_TYPES: readonly InputType[] = ['string', 'number', 'integer', 'boolean', 'bbox', 'object', 'file'];
const SCALAR_TYPES: readonly InputType[] = ['string', 'number', 'integer', 'boolean'];
const NUMBER_KEYS = ['minimum', 'maximum'] as const;
const STRING_KEYS = ['minLength', 'maxLength', 'pattern', 'allowDash'] as const;
// An absolute URI, as the published schema's `format: uri` demands of a CRS.
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** The `inputs` of a service file: the specs, and where the inputs that say so go on the command line. */
export interface ParsedInputs {
  inputs: Record<string, LocalInputSpec>;
  placements: Record<string, InputPlacement>;
}

/**
 * Parses `inputs`: name → InputSpec in declaration order, each with `required` set explicitly
 * (an input is required when it has no default, unless it says `required: false` or `minOccurs: 0`).
 */
export function parseInputs(text: string): ParsedInputs {
  const parsed: ParsedInputs = { inputs: {}, placements: {} };
  for (const [name, value] of Object.entries(parseJsonObject('inputs', text))) {
    const { spec, placement } = checkInput(name, value);
    parsed.inputs[name] = spec;
    if (placement) parsed.placements[name] = placement;
  }
  return parsed;
}

/** Checks one input declaration (a JSON object) of input `name`; throws ServiceFileError with the reason. */
export function checkInput(name: string, value: unknown): { spec: LocalInputSpec; placement: InputPlacement | undefined } {
  checkName(`input name '${name}'`, name);
  // JavaScript objects list integer-like keys first, so such names would lose their position.
  if (/^\d+$/.test(name)) fail(`input name '${name}' must not be all digits (its declaration order would be lost)`);
  const subject = `input '${name}'`;
  if (!isJsonObject(value)) fail(`${subject} must be a JSON object`);
  if (!INPUT_TYPES.includes(value['type'] as InputType)) fail(`${subject}: type must be one of ${INPUT_TYPES.join(', ')}`);
  const { arg, separator, stdin, ...declared } = value;
  const { published, local } = splitLocalKeys(declared);
  if (!validateSpec(published)) fail(ajvReason(subject, validateSpec.errors));
  const spec = withArrayDefault(published);
  checkConstraints(subject, spec);
  const required = requiredOf(subject, spec);
  return {
    spec: { ...spec, required, ...parseConfinement(subject, spec.type, local) },
    placement: parsePlacement(subject, spec, { arg, separator, stdin }),
  };
}

/** One default value of an array input is its only value. */
function withArrayDefault(spec: InputSpec): InputSpec {
  return isArrayInput(spec) && spec.default !== undefined && !Array.isArray(spec.default) ? { ...spec, default: [spec.default] } : spec;
}

function requiredOf(subject: string, spec: InputSpec): boolean {
  const required = spec.minOccurs === undefined ? isRequired(spec) : spec.minOccurs > 0;
  if (spec.required !== undefined && spec.required !== required) fail(`${subject}: required contradicts minOccurs ${spec.minOccurs}`);
  if (required && spec.default !== undefined) fail(`${subject}: a required input cannot have a default`);
  return required;
}

function checkConstraints(subject: string, spec: InputSpec): void {
  const numeric = spec.type === 'number' || spec.type === 'integer';
  for (const key of NUMBER_KEYS) {
    if (spec[key] !== undefined && !numeric) fail(`${subject}: ${key} only applies to number and integer inputs`);
  }
  for (const key of STRING_KEYS) {
    if (spec[key] !== undefined && spec.type !== 'string') fail(`${subject}: ${key} only applies to string inputs`);
  }
  if (!SCALAR_TYPES.includes(spec.type)) {
    if (spec.enum !== undefined) fail(`${subject}: enum only applies to string, number, integer and boolean inputs`);
    if (isArrayInput(spec)) fail(`${subject}: maxOccurs above 1 only applies to string, number, integer and boolean inputs`);
  }
  if ((spec.minOccurs ?? 0) > (spec.maxOccurs ?? 1)) fail(`${subject}: minOccurs must not be greater than maxOccurs`);
  checkCrs(subject, spec);
  if (spec.mediaTypes !== undefined && spec.type !== 'file') fail(`${subject}: mediaTypes only applies to file inputs`);
  // What the client sends is the file; a value written in the service file could only be a path here.
  if (spec.type === 'file' && spec.default !== undefined) fail(`${subject}: a file input takes no default`);
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
    if (!hasType(spec.type, value)) fail(`${subject}: enum value ${JSON.stringify(value)} must be ${KIND_IN_WORDS[spec.type]}`);
  }
  if (spec.default !== undefined) {
    const problem = valueProblem(spec, spec.default);
    if (problem) fail(`${subject}: default ${problem}`);
  }
}

function checkCrs(subject: string, spec: InputSpec): void {
  if (spec.crs === undefined) return;
  if (spec.type !== 'bbox') fail(`${subject}: crs only applies to bbox inputs`);
  const notUri = spec.crs.find((crs) => !URI.test(crs));
  if (notUri !== undefined) fail(`${subject}: crs ${JSON.stringify(notUri)} must be an absolute URI`);
}
