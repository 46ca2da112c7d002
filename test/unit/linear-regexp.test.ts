import { expect } from 'chai';
import fc from 'fast-check';
import { LinearRegExp, PatternError, linearRegExpEngine } from '../../protocol/index.js';

const UNSUPPORTED = 'uses a feature the linear-time engine does not support:';

/** Patterns as services write them: anchors, classes, quantifiers, groups, Unicode. */
const ORDINARY = [
  '^[a-z]+$',
  'ab',
  '^$',
  'colou?r',
  '^\\d{3}-\\d{2,4}$',
  '^[A-Za-z_][\\w.-]*$',
  '\\bcat\\b',
  '^(?:a|b1)*-?$',
  '^(?<word>[a-z]+)(?:\\s(\\d+))?$',
  '^[^\\s-]+$',
  '^\\p{Lu}\\p{Ll}+$',
  '^\\P{L}*$',
  '^.{2}$',
  '^\\u00e9+$',
  '^[\\u{1F600}-\\u{1F64F}]+$',
  '😀',
  '^[]$',
  '^[^]$',
  '^a{2,3}$',
  '\\.\\/\\$',
];
const ALPHABET = ['a', 'b', 'z', 'A', 'É', 'é', '1', '9', '-', '_', '.', ' ', '\t', '\n', '😀', '🙏', '/', '$', 'ß'];

describe('LinearRegExp', () => {
  it('matches like an ECMAScript RegExp with the u flag on ordinary patterns', () => {
    const patterns = ORDINARY.map((source) => ({ source, linear: new LinearRegExp(source), ecma: new RegExp(source, 'u') }));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 12 }), (text) => {
        for (const { source, linear, ecma } of patterns) {
          expect(linear.test(text), `${source} on ${JSON.stringify(text)}`).to.equal(ecma.test(text));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds the same match and capture groups as RegExp.exec', () => {
    const cases: [string, string][] = [
      ['PROGRESS (\\d+(?:\\.\\d+)?)', '[info] PROGRESS 12.5 done'],
      ['(\\d+)%|(done)', 'step done'],
      ['(?<year>\\d{4})-(?<month>\\d\\d)', 'on 2024-05-01'],
      ['(é+)(😀)', 'xéé😀y'],
    ];
    for (const [source, text] of cases) {
      expect(new LinearRegExp(source).exec(text)).to.deep.equal([...(new RegExp(source, 'u').exec(text) ?? [])]);
    }
    expect(new LinearRegExp('(\\d+)%').exec('no number')).to.equal(null);
    expect(new LinearRegExp('(a)(?:b)(?<c>c)?').groupCount).to.equal(2);
  });

  it('keeps ^ and $ at the ends of the whole text, as without the m flag', () => {
    const anchored = new LinearRegExp('^abc$');
    expect(['abc', 'abc\n', '\nabc', 'xabc', 'abcx'].map((text) => anchored.test(text))).to.deep.equal([true, false, false, false, false]);
  });

  it('differs from ECMAScript only where docs/protocol.md says', () => {
    expect(new LinearRegExp('^.$').test('\r')).to.equal(true);
    expect(new RegExp('^.$', 'u').test('\r')).to.equal(false);
    expect(new LinearRegExp('^\\s$').test('\u00a0')).to.equal(false);
    expect(new RegExp('^\\s$', 'u').test('\u00a0')).to.equal(true);
  });

  it('refuses backreferences, lookaround and surrogate escapes, naming them', () => {
    const cases: [string, string][] = [
      ['^(a)\\1$', 'backreference \\1'],
      ['(a)(b)(c)(d)(e)(f)(g)(h)\\8', 'backreference \\8'],
      ['(?<w>a)\\k<w>', 'backreference \\k<w>'],
      ['^(?=.*\\d)', 'lookahead (?=…)'],
      ['^(?!tmp)', 'lookahead (?!…)'],
      ['(?<=v)\\d', 'lookbehind (?<=…)'],
      ['(?<!-)\\d', 'lookbehind (?<!…)'],
      ['\\uD83D\\uDE00', 'surrogate escape \\uD83D (write the character as \\u{…})'],
      ['a{1001}', 'invalid repeat count `{1001}`'],
      ['\\p{Letter}', 'invalid character class range `\\p{Letter}`'],
    ];
    for (const [source, feature] of cases) {
      expect(() => new LinearRegExp(source), source).to.throw(PatternError, `${UNSUPPORTED} ${feature}`);
    }
  });

  it('takes lookaround syntax inside a class or escaped as plain characters', () => {
    expect(new LinearRegExp('^[(?=]+$').test('(?=')).to.equal(true);
    expect(new LinearRegExp('^\\(\\?=\\)$').test('(?=)')).to.equal(true);
  });

  it('refuses what ECMAScript does not accept, even where RE2 would', () => {
    for (const source of ['(', '(?i)a', '\\Qa\\E', '[[:alpha:]]']) {
      const ecmaMessage = (() => {
        try {
          new RegExp(source, 'u');
        } catch (err) {
          return (err as Error).message;
        }
        return expect.fail(`${source} is valid ECMAScript`);
      })();
      expect(() => new LinearRegExp(source)).to.throw(PatternError, `is not a valid regular expression: ${ecmaMessage}`);
    }
  });

  it('answers in linear time where backtracking takes exponential time', function () {
    const started = Date.now();
    for (const source of ['^(a+)+$', '^(a|a)*$', '^(\\w+\\s?)*$']) {
      expect(new LinearRegExp(source).test(`${'a'.repeat(30)}!`)).to.equal(false);
      expect(new LinearRegExp(source).test(`${'a'.repeat(100_000)}!`)).to.equal(false);
    }
    expect(Date.now() - started).to.be.below(1000);
  });

  it('serves ajv as its engine, with the u flag only', () => {
    expect(linearRegExpEngine('^a+$', 'u').test('aaa')).to.equal(true);
    expect(String(linearRegExpEngine('^a+$', 'u'))).to.equal('/^a+$/u');
    expect(() => linearRegExpEngine('a', '')).to.throw(PatternError, "flags '' are not supported (patterns are read with the u flag)");
  });
});
