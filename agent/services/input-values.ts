import { LinearRegExp, isArrayInput, type InputSpec } from '../../protocol/index.js';
import { isJsonObject } from './validation.js';

type Scalar = NonNullable<InputSpec['enum']>[number];

/** A bounding box value (OGC 18-062r2 `bbox.yaml`, two dimensions). */
export interface BoundingBox {
  bbox: [number, number, number, number];
  crs?: string;
}

export const KIND_IN_WORDS: Record<InputSpec['type'], string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  bbox: 'a bounding box {"bbox": [minx, miny, maxx, maxy]}',
  object: 'a JSON object',
  file: 'a file',
};

/** The values of an input as a list: an array input's items (a bare value counts as one), else the value. */
export function valuesOf(spec: InputSpec, value: unknown): unknown[] {
  return isArrayInput(spec) && Array.isArray(value) ? value : [value];
}

/**
 * Why `value` does not have the shape of the input (a phrase like `must be a number`), or
 * undefined when it does: the type of each value, how many values, and a bounding box's CRS.
 */
export function shapeProblem(spec: InputSpec, value: unknown): string | undefined {
  const values = valuesOf(spec, value);
  if (isArrayInput(spec)) {
    const fewest = Math.max(spec.minOccurs ?? 0, 1);
    if (values.length < fewest) return `must have at least ${fewest} values`;
    if (values.length > spec.maxOccurs!) return `must have at most ${spec.maxOccurs} values`;
  }
  const wrong = values.find((item) => !hasType(spec.type, item));
  if (wrong !== undefined) return `must be ${isArrayInput(spec) ? 'a list of values each ' : ''}${KIND_IN_WORDS[spec.type]}`;
  if (spec.type === 'bbox' && spec.crs) {
    const { crs } = value as BoundingBox;
    if (crs !== undefined && !spec.crs.includes(crs)) return `must be in one of the CRSs ${spec.crs.join(', ')}`;
  }
  return undefined;
}

/** `shapeProblem`, then the bounds the declaration sets on each value (enum, range, length, pattern). */
export function valueProblem(spec: InputSpec, value: unknown): string | undefined {
  const shape = shapeProblem(spec, value);
  if (shape) return shape;
  for (const item of valuesOf(spec, value)) {
    const problem = boundsProblem(spec, item);
    if (problem) return problem;
  }
  return undefined;
}

function boundsProblem(spec: InputSpec, value: unknown): string | undefined {
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
export function compilePattern(pattern: string): LinearRegExp {
  return LinearRegExp.cached(pattern);
}

export function hasType(type: InputSpec['type'], value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'bbox':
      return isBoundingBox(value);
    case 'object':
      return isJsonObject(value);
    case 'file':
      // By the time arguments are built, a file input's value is the path it was fetched to.
      return typeof value === 'string';
  }
}

function isBoundingBox(value: unknown): value is BoundingBox {
  if (!isJsonObject(value) || !Array.isArray(value['bbox']) || value['bbox'].length !== 4) return false;
  const crs = value['crs'];
  return value['bbox'].every((n) => typeof n === 'number' && Number.isFinite(n)) && (crs === undefined || typeof crs === 'string');
}
