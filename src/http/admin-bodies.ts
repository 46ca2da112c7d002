import type { ValidateFunction } from 'ajv';
import { OutpostError } from '../errors.js';
import { ADMIN_BODY_WORDING, ajv, describeAjvError } from '../../protocol/index.js';

const compiled = new Map<BodySchema, ValidateFunction>();

/** A JSON schema of an object body. */
export interface BodySchema {
  type: 'object';
  properties: Record<string, unknown>;
}

/** The body as `T` when it matches the JSON schema; a 400 naming the first problem otherwise. */
export function checkBody<T>(schema: BodySchema, body: unknown): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(body)) return body as T;
  const members = Object.keys(schema.properties).join(', ');
  throw new OutpostError('bad-request', 400, describeAjvError(validate.errors, ADMIN_BODY_WORDING, { value: body, members }));
}
