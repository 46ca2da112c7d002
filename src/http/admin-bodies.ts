import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { OutpostError } from '../errors.js';

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false });
const compiled = new Map<BodySchema, ValidateFunction>();

/** A JSON schema of an object body. */
export interface BodySchema {
  type: 'object';
  properties: Record<string, unknown>;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function describe(error: ErrorObject, body: unknown, schema: BodySchema): string {
  const member = error.instancePath.slice(1).split('/').join('.');
  const where = `'${member}'`;
  switch (error.keyword) {
    case 'type': {
      if (member === '') return `request body must be a JSON object, got ${kind(body)}`;
      const types = ([] as string[]).concat(error.params['type'] as string | string[]);
      return `${where} must be ${types.map((t) => (t === 'null' ? 'null' : `a${t === 'integer' ? 'n' : ''} ${t}`)).join(' or ')}`;
    }
    case 'required':
      return `request body must have '${String(error.params['missingProperty'])}'`;
    case 'additionalProperties':
      return `request body has an unknown member '${String(error.params['additionalProperty'])}'; it may have ${Object.keys(schema.properties).join(', ')}`;
    case 'enum':
      return `${where} must be one of ${(error.params['allowedValues'] as string[]).map((v) => `'${v}'`).join(', ')}`;
    case 'minimum':
      return `${where} must be at least ${String(error.params['limit'])}`;
    case 'maxLength':
      return `${where} must be at most ${String(error.params['limit'])} characters long`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}

/** The body as `T` when it matches the JSON schema; a 400 naming the first problem otherwise. */
export function checkBody<T>(schema: BodySchema, body: unknown): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(body)) return body as T;
  throw new OutpostError('bad-request', 400, describe(validate.errors![0]!, body, schema));
}
