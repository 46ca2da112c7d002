import { expect } from 'chai';
import {
  ADMIN_BODY_WORDING,
  EXECUTE_REQUEST_WORDING,
  INPUTS_WORDING,
  PROTOCOL_WORDING,
  SERVICE_FILE_WORDING,
  ajv,
  describeAjvError,
  type AjvErrorContext,
  type AjvWording,
} from '../../protocol/validation.js';

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
    count: { type: ['integer', 'null'], minimum: 1 },
    mode: { enum: ['fast', 'slow'] },
    link: { type: 'string', format: 'uri' },
    nested: { type: 'object', properties: { deep: { type: 'boolean' } }, additionalProperties: false },
  },
  required: ['name'],
  additionalProperties: false,
};
const validate = ajv.compile(SCHEMA);

/** The sentence `wording` makes of the first error `value` has against SCHEMA. */
function sentence(wording: AjvWording, value: unknown, context: AjvErrorContext = {}): string {
  expect(validate(value), 'the value must be invalid').to.equal(false);
  return describeAjvError(validate.errors, wording, { value, ...context });
}

describe('protocol/validation: one ajv and one describer of its errors', () => {
  it('stops at the first error', () => {
    validate({ name: 1, mode: 'medium' });
    expect(validate.errors).to.have.length(1);
  });

  it('runs patterns on the linear-time engine', () => {
    expect(() => ajv.compile({ type: 'string', pattern: '(a)\\1' })).to.throw(/backreference \\1/);
  });

  const cases: [string, AjvWording, unknown, string][] = [
    // Protocol bodies: JSON pointers and ajv's words.
    ['protocol, unknown member', PROTOCOL_WORDING, { name: 'ab', extra: 1 }, "(body): unknown property 'extra'"],
    ['protocol, nested unknown member', PROTOCOL_WORDING, { name: 'ab', nested: { x: 1 } }, "/nested: unknown property 'x'"],
    ['protocol, missing member', PROTOCOL_WORDING, {}, "(body) must have required property 'name'"],
    ['protocol, wrong type', PROTOCOL_WORDING, { name: 'ab', nested: { deep: 1 } }, '/nested/deep must be boolean'],
    // Properties files: the caller names the subject, so the root goes unnamed.
    ['service file, unknown member', SERVICE_FILE_WORDING, { name: 'ab', extra: 1 }, "unknown property 'extra'"],
    ['service file, missing member', SERVICE_FILE_WORDING, {}, "must have required property 'name'"],
    ['service file, member', SERVICE_FILE_WORDING, { name: 'ab', count: 0 }, '/count must be >= 1'],
    // Execute requests: dotted members, the product's own words.
    ['execute, not an object', EXECUTE_REQUEST_WORDING, [1], 'request body must be a JSON object (an OGC execute request), got an array'],
    ['execute, unknown member', EXECUTE_REQUEST_WORDING, { name: 'ab', extra: 1 }, "the execute request has an unknown member 'extra'; it may have inputs, outputs, response and subscriber"],
    ['execute, nested unknown member', EXECUTE_REQUEST_WORDING, { name: 'ab', nested: { x: 1 } }, "'nested' has an unknown member 'x'"],
    ['execute, nested type', EXECUTE_REQUEST_WORDING, { name: 'ab', nested: 'no' }, "'nested' must be a JSON object"],
    ['execute, enum', EXECUTE_REQUEST_WORDING, { name: 'ab', mode: 'medium' }, "'mode' must be one of 'fast', 'slow'"],
    ['execute, format', EXECUTE_REQUEST_WORDING, { name: 'ab', link: 'not a uri' }, "'link' must be an absolute URI"],
    ['execute, other keywords', EXECUTE_REQUEST_WORDING, { name: 'ab', count: 0 }, "'count' must be >= 1"],
    // Admin bodies.
    ['admin, not an object', ADMIN_BODY_WORDING, 'text', 'request body must be a JSON object, got a string'],
    ['admin, null body', ADMIN_BODY_WORDING, null, 'request body must be a JSON object, got null'],
    ['admin, missing member', ADMIN_BODY_WORDING, {}, "request body must have 'name'"],
    ['admin, union type', ADMIN_BODY_WORDING, { name: 'ab', count: 'x' }, "'count' must be an integer or null"],
    ['admin, type', ADMIN_BODY_WORDING, { name: 7 }, "'name' must be a string"],
    ['admin, enum', ADMIN_BODY_WORDING, { name: 'ab', mode: 'medium' }, "'mode' must be one of 'fast', 'slow'"],
    ['admin, minimum', ADMIN_BODY_WORDING, { name: 'ab', count: 0 }, "'count' must be at least 1"],
    ['admin, maxLength', ADMIN_BODY_WORDING, { name: 'abcdef' }, "'name' must be at most 5 characters long"],
    ['admin, other keywords', ADMIN_BODY_WORDING, { name: 'a' }, "'name' must NOT have fewer than 2 characters"],
    // Process inputs.
    ['inputs, not an object', INPUTS_WORDING, 5, 'inputs must be a JSON object'],
    ['inputs, unknown input', INPUTS_WORDING, { name: 'ab', extra: 1 }, "unknown input 'extra'"],
    ['inputs, missing input', INPUTS_WORDING, {}, "missing required input 'name'"],
    ['inputs, enum', INPUTS_WORDING, { name: 'ab', mode: 'medium' }, "input 'mode' must be one of: fast, slow"],
    ['inputs, minLength', INPUTS_WORDING, { name: 'a' }, "input 'name' must be at least 2 characters long"],
    ['inputs, maxLength', INPUTS_WORDING, { name: 'abcdef' }, "input 'name' must be at most 5 characters long"],
    ['inputs, pattern', INPUTS_WORDING, { name: 'AB' }, `input 'name' must match pattern "^[a-z]+$"`],
    ['inputs, other keywords', INPUTS_WORDING, { name: 'ab', count: 0 }, "input 'count' must be >= 1"],
  ];
  for (const [title, wording, value, expected] of cases) {
    it(`words ${title}`, () => expect(sentence(wording, value)).to.equal(expected));
  }

  it('names the members an admin body may have', () => {
    expect(sentence(ADMIN_BODY_WORDING, { name: 'ab', extra: 1 }, { members: 'name, count' })).to.equal(
      "request body has an unknown member 'extra'; it may have name, count",
    );
  });

  it("names members and missing members with the caller's own names", () => {
    const settings: AjvWording = {
      root: 'the configuration',
      member: (pointer) => `--${pointer.slice(1)}`,
      templates: { required: '{propertyName} is required', default: '{name}: {message}' },
    };
    expect(sentence(settings, {})).to.equal('--name is required');
    expect(sentence(settings, { name: 'ab', link: 5 })).to.equal('--link: must be string');
  });

  it('words a failure without errors', () => {
    expect(describeAjvError(undefined, PROTOCOL_WORDING)).to.equal('invalid');
    expect(describeAjvError([], INPUTS_WORDING)).to.equal('inputs are invalid');
    expect(describeAjvError(null, ADMIN_BODY_WORDING)).to.equal('request body is invalid');
  });
});
