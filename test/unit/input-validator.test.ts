import { expect } from 'chai';
import { DEFAULT_MAX_INPUT_LENGTH, describeInputs, inputJsonSchema } from '../../src/jobs/input-schema.js';
import { compileInputValidator } from '../../src/jobs/input-validator.js';
import { PatternError } from '../../protocol/linear-regexp.js';
import type { InputSpec } from '../../protocol/process-spec.js';

const inputs: Record<string, InputSpec> = {
  echo: { type: 'string', title: 'Text', description: 'Echoed back', minLength: 2, maxLength: 5 },
  pause: { type: 'number', default: 0, minimum: 0, maximum: 60 },
  mode: { type: 'string', enum: ['fast', 'slow'], required: false },
  name: { type: 'string', pattern: '^[a-z]+$', required: false },
  count: { type: 'integer', required: true, default: 1 },
  loud: { type: 'boolean', default: false },
};

describe('input schema', () => {
  it('keeps only the keywords that apply to the type', () => {
    expect(inputJsonSchema({ type: 'integer', minimum: 1, maximum: 9, minLength: 2, pattern: 'x', default: 3 })).to.deep.equal({
      type: 'integer',
      default: 3,
      minimum: 1,
      maximum: 9,
    });
    expect(
      inputJsonSchema({ type: 'string', enum: ['a', 'bb'], minimum: 1, minLength: 1, maxLength: 2, pattern: '^.+$', title: 'T' }),
    ).to.deep.equal({ type: 'string', enum: ['a', 'bb'], minLength: 1, maxLength: 2, pattern: '^.+$' });
  });

  it('does not publish allowDash, which is no JSON Schema keyword', () => {
    expect(inputJsonSchema({ type: 'string', allowDash: true, maxLength: 9 })).to.deep.equal({ type: 'string', maxLength: 9 });
  });

  it('describes inputs as an object keyed by id (OGC 18-062r2 §7.10)', () => {
    expect(describeInputs(inputs)).to.deep.equal({
      echo: {
        title: 'Text',
        description: 'Echoed back',
        schema: { type: 'string', minLength: 2, maxLength: 5 },
        minOccurs: 1,
        maxOccurs: 1,
      },
      pause: { title: 'pause', schema: { type: 'number', default: 0, minimum: 0, maximum: 60 }, minOccurs: 0, maxOccurs: 1 },
      mode: { title: 'mode', schema: { type: 'string', enum: ['fast', 'slow'] }, minOccurs: 0, maxOccurs: 1 },
      name: { title: 'name', schema: { type: 'string', maxLength: DEFAULT_MAX_INPUT_LENGTH, pattern: '^[a-z]+$' }, minOccurs: 0, maxOccurs: 1 },
      count: { title: 'count', schema: { type: 'integer', default: 1 }, minOccurs: 1, maxOccurs: 1 },
      loud: { title: 'loud', schema: { type: 'boolean', default: false }, minOccurs: 0, maxOccurs: 1 },
    });
  });
});

describe('compileInputValidator', () => {
  const validate = compileInputValidator(inputs);
  const failure = (values: unknown) => {
    const result = validate(values);
    if (result.ok) throw new Error(`expected ${JSON.stringify(values)} to be refused`);
    return result;
  };

  it('passes valid inputs unchanged, without filling defaults', () => {
    const values = { echo: 'hi', count: 2 };
    expect(validate(values)).to.deep.equal({ ok: true, values: { echo: 'hi', count: 2 } });
    const all = { echo: 'hello', pause: 1.5, mode: 'slow', name: 'abc', count: -4, loud: true };
    expect(validate(all)).to.deep.equal({ ok: true, values: all });
  });

  it('unwraps qualified values', () => {
    expect(validate({ echo: { value: 'hi', mediaType: 'text/plain' }, count: { value: 3 } })).to.deep.equal({
      ok: true,
      values: { echo: 'hi', count: 3 },
    });
    expect(failure({ echo: { value: 5 }, count: 1 })).to.deep.equal({ ok: false, message: "input 'echo' must be string", input: 'echo' });
    expect(failure({ echo: { value: 'hi', other: 1 }, count: 1 })).to.deep.equal({
      ok: false,
      message: "input 'echo' must be string",
      input: 'echo',
    });
  });

  describe('file inputs', () => {
    const files = compileInputValidator({ dem: { type: 'file', mediaTypes: ['image/tiff', 'text/csv'] }, data: { type: 'file', required: false } });

    it('decodes a file sent inline: base64, or the text itself for a text type; a link stays a link', () => {
      expect(files({ dem: { value: 'R0lG', mediaType: 'image/tiff', encoding: 'base64' } })).to.deep.equal({
        ok: true,
        values: { dem: { bytes: Buffer.from('R0lG', 'base64'), mediaType: 'image/tiff' } },
      });
      expect(files({ dem: { value: 'x,y\n1,2', mediaType: 'text/csv' } })).to.deep.equal({ ok: true, values: { dem: { bytes: Buffer.from('x,y\n1,2'), mediaType: 'text/csv' } } });
      expect(files({ dem: { href: 'https://example.org/dem.tif', type: 'image/tiff', title: 'DEM' } })).to.deep.equal({
        ok: true,
        values: { dem: { href: 'https://example.org/dem.tif', mediaType: 'image/tiff' } },
      });
      expect(files({ dem: { href: 'https://example.org/dem.tif' }, data: { value: 'AAEC' } })).to.deep.equal({
        ok: true,
        values: { dem: { href: 'https://example.org/dem.tif' }, data: { bytes: Buffer.from([0, 1, 2]), mediaType: 'application/octet-stream' } },
      });
    });

    it('refuses what is no file, a media type the input does not take, and a URL it cannot fetch', () => {
      const refusals: [unknown, string][] = [
        ['/data/dem.tif', `must be a file: {"value": BASE64, "mediaType": TYPE} or {"href": "https://…"}`],
        [{ value: 'R0lG', mediaType: 'image/png' }, 'is image/png, which it does not accept; it accepts image/tiff, text/csv'],
        [{ href: 'https://example.org/a.png', type: 'image/png' }, 'is image/png, which it does not accept; it accepts image/tiff, text/csv'],
        [{ value: 'R0lG' }, 'needs a mediaType: one of image/tiff, text/csv'],
        [{ value: 'R0l', mediaType: 'image/tiff' }, 'is image/tiff, so its value must be base64'],
        [{ value: 'R0lG', mediaType: 'image/tiff', encoding: 'gzip' }, "has encoding 'gzip'; only base64 is understood (or none, for the text of a text file)"],
        [{ href: 'ftp://example.org/dem.tif' }, 'must have an http or https URL of at most 2000 characters as its href'],
        [{ href: 'https://user:pw@example.org/dem.tif' }, 'must not carry a user name or password in its href'],
      ];
      for (const [value, problem] of refusals) expect(files({ dem: value }), problem).to.deep.equal({ ok: false, message: `input 'dem' ${problem}`, input: 'dem' });
    });

    it('describes a file input as OGC 18-062r2 describes binary inputs', () => {
      const binary = (contentMediaType?: string) => ({ type: 'string', contentEncoding: 'binary', ...(contentMediaType && { contentMediaType }) });
      expect(inputJsonSchema({ type: 'file', mediaTypes: ['image/tiff'] })).to.deep.equal(binary('image/tiff'));
      expect(inputJsonSchema({ type: 'file', mediaTypes: ['image/tiff', 'image/png'] })).to.deep.equal({ oneOf: [binary('image/tiff'), binary('image/png')] });
      expect(inputJsonSchema({ type: 'file' })).to.deep.equal(binary());
    });
  });

  it('refuses anything but an object', () => {
    for (const values of [null, [], 'x', 3, undefined]) {
      expect(failure(values)).to.deep.equal({ ok: false, message: 'inputs must be a JSON object' });
    }
  });

  it('names unknown inputs before missing ones', () => {
    expect(failure({ foo: 1 })).to.deep.equal({ ok: false, message: "unknown input 'foo'", input: 'foo' });
    expect(failure({ count: 1 })).to.deep.equal({ ok: false, message: "missing required input 'echo'", input: 'echo' });
    expect(failure({ echo: 'hi' })).to.deep.equal({ ok: false, message: "missing required input 'count'", input: 'count' });
  });

  it('says what is wrong with a value', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ pause: '5' }, 'pause', "input 'pause' must be number"],
      [{ pause: 61 }, 'pause', "input 'pause' must be <= 60"],
      [{ pause: -1 }, 'pause', "input 'pause' must be >= 0"],
      [{ count: 1.5 }, 'count', "input 'count' must be integer"],
      [{ loud: 'yes' }, 'loud', "input 'loud' must be boolean"],
      [{ mode: 'medium' }, 'mode', "input 'mode' must be one of: fast, slow"],
      [{ name: 'Abc' }, 'name', `input 'name' must match pattern "^[a-z]+$"`],
      [{ echo: 'h' }, 'echo', "input 'echo' must be at least 2 characters long"],
      [{ echo: 'hello!' }, 'echo', "input 'echo' must be at most 5 characters long"],
      [{ echo: ['hi'] }, 'echo', "input 'echo' must be string"],
    ];
    for (const [values, input, message] of cases) {
      expect(failure({ echo: 'hi', count: 1, ...values })).to.deep.equal({ ok: false, message, input });
    }
  });

  it('refuses a string that starts with a dash unless the input allows it', () => {
    const dashed = compileInputValidator({
      path: { type: 'string' },
      expression: { type: 'string', allowDash: true, required: false },
      offset: { type: 'number', required: false },
    });
    expect(dashed({ path: '--help' })).to.deep.equal({
      ok: false,
      message: "input 'path' must not start with '-' (the program would read it as an option)",
      input: 'path',
    });
    expect(dashed({ path: { value: '-x' } })).to.deep.include({ ok: false, input: 'path' });
    expect(dashed({ path: 'a-b', expression: '-1 * x', offset: -122.5 })).to.deep.equal({
      ok: true,
      values: { path: 'a-b', expression: '-1 * x', offset: -122.5 },
    });
    expect(dashed({ path: '-x', offset: 'far' })).to.deep.equal({ ok: false, message: "input 'offset' must be number", input: 'offset' });
  });

  it('compiles equal declarations once, though each agent sends its own copy', () => {
    expect(compileInputValidator(inputs)).to.equal(validate);
    expect(compileInputValidator(structuredClone(inputs))).to.equal(validate);
    expect(compileInputValidator({ ...inputs, extra: { type: 'boolean' } })).to.not.equal(validate);
  });

  it('refuses a declaration that cannot be compiled', () => {
    expect(() => compileInputValidator({ name: { type: 'string', pattern: '(' } })).to.throw(
      PatternError,
      'is not a valid regular expression: Invalid regular expression: /(/u: Unterminated group',
    );
    expect(() => compileInputValidator({ name: { type: 'string', pattern: '^(?!tmp)' } })).to.throw(
      PatternError,
      'uses a feature the linear-time engine does not support: lookahead (?!…)',
    );
  });

  it('checks a pattern in linear time, however the pattern nests', () => {
    const started = Date.now();
    const result = compileInputValidator({ word: { type: 'string', pattern: '^(a+)+$' } })({ word: `${'a'.repeat(30)}!` });
    expect(result).to.deep.equal({ ok: false, message: `input 'word' must match pattern "^(a+)+$"`, input: 'word' });
    expect(Date.now() - started).to.be.below(1000);
  });
});
