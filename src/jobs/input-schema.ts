import { isRequired, type InputSpec } from '../../protocol/process-spec.js';

/**
 * The longest string an input takes when its declaration sets no `maxLength`: every value travels
 * inside one `execute` stanza (docs/protocol.md §2), so no input may be unbounded (docs/security.md).
 */
export const DEFAULT_MAX_INPUT_LENGTH = 16 * 1024;

/** The JSON Schema of one input value, as published in `inputs.<id>.schema`. */
export interface InputJsonSchema {
  type: Exclude<InputSpec['type'], 'file'>;
  enum?: NonNullable<InputSpec['enum']>;
  default?: NonNullable<InputSpec['default']>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

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
  schema: InputJsonSchema | FileJsonSchema;
  minOccurs: 0 | 1;
  maxOccurs: 1;
}

/**
 * Bounds are kept only where JSON Schema applies them (numeric bounds on numbers, length and
 * pattern on strings), so the published schema means what it says and ajv's strict mode accepts it.
 */
export function inputJsonSchema(spec: InputSpec): InputJsonSchema | FileJsonSchema {
  if (spec.type === 'file') return fileJsonSchema(spec.mediaTypes);
  const schema: InputJsonSchema = { type: spec.type };
  if (spec.enum !== undefined) schema.enum = spec.enum;
  if (spec.default !== undefined) schema.default = spec.default;
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

function fileJsonSchema(mediaTypes: string[] | undefined): FileJsonSchema {
  const binary = (contentMediaType?: string): BinaryJsonSchema => ({ type: 'string', contentEncoding: 'binary', ...(contentMediaType && { contentMediaType }) });
  if (mediaTypes === undefined) return binary();
  return mediaTypes.length === 1 ? binary(mediaTypes[0]) : { oneOf: mediaTypes.map(binary) };
}

/** The `inputs` object of a process description, keyed by input id; untitled inputs show their id. */
export function describeInputs(inputs: Record<string, InputSpec>): Record<string, InputDescription> {
  return Object.fromEntries(
    Object.entries(inputs).map(([id, spec]): [string, InputDescription] => [
      id,
      {
        title: spec.title ?? id,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        schema: inputJsonSchema(spec),
        minOccurs: isRequired(spec) ? 1 : 0,
        maxOccurs: 1,
      },
    ]),
  );
}
