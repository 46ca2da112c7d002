import fc from 'fast-check';
import type { InputSpec } from '../../protocol/index.js';
import { hostileJson } from './fuzz.js';

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
    value: fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('-rf', '--', '../x', '\u0000', 'a'.repeat(70_000))),
  },
  number: {
    spec: fc.record({ type: fc.constant('number' as const), minimum: fc.double(), maximum: fc.double(), default: fc.double() }, { requiredKeys: ['type'] }),
    value: fc.oneof(fc.double(), fc.constantFrom(1e308, -1e308, 5e-324, -0)),
  },
  integer: {
    spec: fc.record({ type: fc.constant('integer' as const), minimum: fc.integer(), maximum: fc.integer(), default: fc.integer() }, { requiredKeys: ['type'] }),
    value: fc.oneof(fc.integer(), fc.constantFrom(2 ** 53 + 2, -(2 ** 63), 1.5)),
  },
  boolean: {
    spec: fc.record({ type: fc.constant('boolean' as const), default: fc.boolean() }, { requiredKeys: ['type'] }),
    value: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1)),
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
