import { DEFAULT_BBOX_CRS, isArrayInput, isRequired, type InputSpec } from '../../protocol/process-spec.js';

/**
 * The longest string an input takes when its declaration sets no `maxLength`: every value travels
 * inside one `execute` stanza (docs/protocol.md §2), so no input may be unbounded (docs/security.md).
 */
export const DEFAULT_MAX_INPUT_LENGTH = 16 * 1024;

type Scalar = NonNullable<InputSpec['enum']>[number];

/** The JSON Schema of one value of a scalar input (or of each item of an array input). */
export interface ScalarJsonSchema {
  type: 'string' | 'number' | 'integer' | 'boolean';
  enum?: Scalar[];
  default?: InputSpec['default'];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

/** The JSON Schema of one input value, as published in `inputs.<id>.schema`. */
export type InputJsonSchema =
  | ScalarJsonSchema
  | { type: 'array'; items: ScalarJsonSchema; minItems: number; maxItems: number; default?: InputSpec['default'] }
  | { type: 'object'; default?: InputSpec['default']; required?: ['bbox']; properties?: Record<string, object> };

/** A file of one media type, as OGC 18-062r2 describes binary inputs (§8, OGC process description: `contentEncoding` and `contentMediaType`, `oneOf` for several). */
interface BinaryJsonSchema {
  type: 'string';
  contentEncoding: 'binary';
  contentMediaType?: string;
}

/** A file input: one media type, or `oneOf` the media types it accepts. */
export type FileJsonSchema = BinaryJsonSchema | { oneOf: BinaryJsonSchema[] };

/** An input description of a process description (OGC 18-062r2 §7.10, `inputDescription`). */
export interface InputDescription {
  title: string;
  description?: string;
  schema: (InputJsonSchema & { format?: 'ogc-bbox' }) | FileJsonSchema;
  minOccurs: number;
  maxOccurs: number;
}

/**
 * Bounds are kept only where JSON Schema applies them (numeric bounds on numbers, length and
 * pattern on strings), so the published schema means what it says and ajv's strict mode accepts it.
 * An array input's bounds apply to each of its values (OGC 18-062r2 §7.11.2.2, `maxOccurs`).
 */
export function inputJsonSchema(spec: InputSpec): InputJsonSchema | FileJsonSchema {
  if (spec.type === 'file') return fileJsonSchema(spec.mediaTypes);
  const withDefault = spec.default === undefined ? {} : { default: spec.default };
  switch (spec.type) {
    case 'bbox':
      return { type: 'object', ...withDefault, required: ['bbox'], properties: bboxProperties(spec) };
    case 'object':
      return { type: 'object', ...withDefault };
  }
  const item = scalarSchema({ ...spec, type: spec.type });
  if (!isArrayInput(spec)) return { ...item, ...withDefault };
  return { type: 'array', items: item, minItems: Math.max(spec.minOccurs ?? 0, 1), maxItems: spec.maxOccurs!, ...withDefault };
}

function scalarSchema(spec: InputSpec & { type: ScalarJsonSchema['type'] }): ScalarJsonSchema {
  const schema: ScalarJsonSchema = { type: spec.type };
  if (spec.enum !== undefined) schema.enum = spec.enum;
  if (spec.type === 'number' || spec.type === 'integer') {
    if (spec.minimum !== undefined) schema.minimum = spec.minimum;
    if (spec.maximum !== undefined) schema.maximum = spec.maximum;
  }
  if (spec.type === 'string') {
    if (spec.minLength !== undefined) schema.minLength = spec.minLength;
    if (spec.maxLength !== undefined) schema.maxLength = spec.maxLength;
    else if (spec.enum === undefined) schema.maxLength = DEFAULT_MAX_INPUT_LENGTH;
    if (spec.pattern !== undefined) schema.pattern = spec.pattern;
  }
  return schema;
}

/** OGC 18-062r2 `bbox.yaml`, narrowed to two dimensions and to the CRSs the input declares. */
function bboxProperties(spec: InputSpec): Record<string, object> {
  const crs = spec.crs === undefined ? { default: DEFAULT_BBOX_CRS } : { default: spec.crs[0], enum: spec.crs };
  return {
    bbox: { type: 'array', minItems: 4, maxItems: 4, items: { type: 'number' } },
    crs: { type: 'string', format: 'uri', ...crs },
  };
}

function fileJsonSchema(mediaTypes: string[] | undefined): FileJsonSchema {
  const binary = (contentMediaType?: string): BinaryJsonSchema => ({ type: 'string', contentEncoding: 'binary', ...(contentMediaType && { contentMediaType }) });
  if (mediaTypes === undefined) return binary();
  return mediaTypes.length === 1 ? binary(mediaTypes[0]) : { oneOf: mediaTypes.map(binary) };
}

/** The `inputs` object of a process description, keyed by input id; untitled inputs show their id. */
export function describeInputs(inputs: Record<string, InputSpec>): Record<string, InputDescription> {
  return Object.fromEntries(
    Object.entries(inputs).map(([id, spec]): [string, InputDescription] => {
      const schema = inputJsonSchema(spec);
      const required = isRequired(spec);
      return [
        id,
        {
          title: spec.title ?? id,
          ...(spec.description === undefined ? {} : { description: spec.description }),
          // The format names OGC's bounding box for clients (OGC 18-062r2, ProcessDescription example).
          schema: spec.type === 'bbox' ? { ...schema, format: 'ogc-bbox' } : schema,
          minOccurs: required ? Math.max(spec.minOccurs ?? 1, 1) : 0,
          maxOccurs: 'type' in schema && schema.type === 'array' ? schema.maxItems : 1,
        },
      ];
    }),
  );
}
