import fc from 'fast-check';
import type { InputSpec } from '../../protocol/index.js';
import { HOSTILE_KEYS, deeplyNested, hostileJson } from './fuzz.js';

/** Values that are right three times in four, and borderline or wrong otherwise. */
function mostly(right: fc.Arbitrary<unknown>, borderline: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: right, weight: 3 }, borderline);
}

/**
 * Every input type of a service, as the fuzzers see it: specs a service file may declare, and
 * values a client may send for it, valid-looking or not. A new input type is one more entry.
 */
export const INPUT_TYPES: Record<InputSpec['type'], { spec: fc.Arbitrary<InputSpec>; value: fc.Arbitrary<unknown> }> = {
  string: {
    spec: fc.record(
      {
        type: fc.constant('string' as const),
        minLength: fc.nat(10),
        maxLength: fc.nat(1000),
        pattern: fc.constantFrom('^[a-z]+$', '(a+)+$', '[', '\\d', '^(?=a)', '.*'),
        enum: fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        default: fc.string({ maxLength: 5 }),
        allowDash: fc.boolean(),
      },
      { requiredKeys: ['type'] },
    ),
    value: mostly(fc.string({ maxLength: 30 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('-rf', '--', '../x', '\u0000', 'a'.repeat(70_000)))),
  },
  number: {
    spec: fc.record({ type: fc.constant('number' as const), minimum: fc.double(), maximum: fc.double(), default: fc.double() }, { requiredKeys: ['type'] }),
    value: mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e308, -1e308, 5e-324, -0, Number.NaN)),
  },
  integer: {
    spec: fc.record({ type: fc.constant('integer' as const), minimum: fc.integer(), maximum: fc.integer(), default: fc.integer() }, { requiredKeys: ['type'] }),
    value: mostly(fc.integer(), fc.constantFrom(2 ** 53 + 2, -(2 ** 63), 1.5)),
  },
  boolean: {
    spec: fc.record({ type: fc.constant('boolean' as const), default: fc.boolean() }, { requiredKeys: ['type'] }),
    value: mostly(fc.boolean(), fc.constantFrom('true', 0, 1)),
  },
  bbox: {
    spec: fc.record(
      { type: fc.constant('bbox' as const), crs: fc.array(fc.constantFrom('http://www.opengis.net/def/crs/EPSG/0/4326', 'not a uri'), { minLength: 1, maxLength: 2 }) },
      { requiredKeys: ['type'] },
    ),
    value: mostly(
      fc.record({ bbox: fc.tuple(fc.double(), fc.double(), fc.double(), fc.double()), crs: fc.constantFrom('http://www.opengis.net/def/crs/EPSG/0/4326', 'x') }, { requiredKeys: ['bbox'] }),
      fc.constantFrom({ bbox: [1, 2, 3] }, { bbox: 'x' }, [1, 2, 3, 4], { bbox: [1, 2, 3, Number.NaN] }),
    ),
  },
  object: {
    spec: fc.record({ type: fc.constant('object' as const), default: fc.dictionary(fc.string({ maxLength: 4 }), fc.nat()) }, { requiredKeys: ['type'] }),
    value: mostly(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })), fc.constantFrom(null, [], 'x', { value: 1 })),
  },
  file: {
    spec: fc.record(
      { type: fc.constant('file' as const), mediaTypes: fc.array(fc.constantFrom('image/tiff', 'text/plain', 'application/json', 'image tiff'), { minLength: 1, maxLength: 2 }) },
      { requiredKeys: ['type'] },
    ),
    // Only addresses that are refused at once: the fuzz must never wait on a name lookup or a fetch.
    value: mostly(
      fc.oneof(
        fc.record({ value: fc.base64String({ maxLength: 40 }), encoding: fc.constant('base64'), mediaType: fc.constantFrom('image/tiff', 'text/plain') }),
        fc.record({ href: fc.constantFrom('http://127.0.0.1:9/x.tif', 'http://169.254.169.254/latest'), type: fc.constantFrom('image/tiff', 'text/plain') }, { requiredKeys: ['href'] }),
      ),
      fc.constantFrom({ href: 'file:///etc/passwd' }, { href: 'ftp://127.0.0.1/x' }, { value: '%%%', encoding: 'base64' }, { value: 'x', encoding: 'rot13' }, '/etc/passwd'),
    ),
  },
};

/** A value for an input of any type: one meant for its type, one meant for another, or anything. */
export function anyInputValue(): fc.Arbitrary<unknown> {
  return fc.oneof(...Object.values(INPUT_TYPES).map((type) => type.value), hostileJson());
}

/** An `inputs` declaration of a service file: valid-looking specs of every type under odd names. */
export function inputDeclarations(): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.oneof(fc.constantFrom('size', 'name', '0', '__proto__', 'a b', '..', 'x'.repeat(101)), fc.string({ maxLength: 6 }));
  const spec = fc.oneof(...Object.values(INPUT_TYPES).map((type) => type.spec as fc.Arbitrary<unknown>), hostileJson());
  return fc.dictionary(name, spec, { maxKeys: 3 });
}

/** The inputs of a process with one input of every type, required and optional. */
export const TYPED_INPUTS: Record<string, InputSpec> = Object.fromEntries(
  Object.keys(INPUT_TYPES).flatMap((type) => [
    [type, { type } as InputSpec],
    [`${type}Optional`, { type, required: false } as InputSpec],
  ]),
);
const INPUT_NAMES = Object.keys(TYPED_INPUTS);

/** An execute request body for a process with TYPED_INPUTS: an OGC request of any correctness, or anything at all. */
export function executeDocuments(): fc.Arbitrary<unknown> {
  // Each input with a value meant for its own type (borderline ones included): these mostly pass and run.
  const ownTypes = fc.record(
    Object.fromEntries(Object.entries(TYPED_INPUTS).map(([name, { type }]) => [name, INPUT_TYPES[type].value])),
    { requiredKeys: Object.keys(INPUT_TYPES) },
  );
  const inputs = fc.oneof(
    fc.record(Object.fromEntries(INPUT_NAMES.map((name) => [name, anyInputValue()])), { requiredKeys: [] }),
    fc.dictionary(fc.oneof(fc.constantFrom(...INPUT_NAMES), fc.constantFrom(...HOSTILE_KEYS)), anyInputValue(), { maxKeys: 4 }),
    hostileJson(),
  );
  const request = fc.record(
    {
      inputs,
      outputs: fc.oneof(fc.dictionary(fc.constantFrom('result', '__proto__', 'x'), fc.record({ transmissionMode: fc.constantFrom('value', 'reference', 'x') }, { requiredKeys: [] })), hostileJson()),
      response: fc.oneof(fc.constantFrom('raw', 'document', 'RAW'), hostileJson()),
      subscriber: fc.oneof(fc.record({ successUri: fc.constantFrom('http://127.0.0.1:1/cb', 'file:///etc/passwd', 'not a uri') }, { requiredKeys: [] }), hostileJson()),
    },
    { requiredKeys: [] },
  );
  // A member named so must not reach the prototype of the object the request is parsed into.
  const prototypeKey = fc.record({ inputs: ownTypes, ['__proto__']: hostileJson() });
  return fc.oneof({ arbitrary: fc.record({ inputs: ownTypes }), weight: 3 }, { arbitrary: request, weight: 4 }, prototypeKey, hostileJson(), fc.integer({ min: 28, max: 40 }).map((depth) => ({ inputs: { json: deeplyNested(depth) } })));
}

