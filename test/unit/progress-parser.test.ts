import { expect } from 'chai';
import { createProgressParser } from '../../agent/runner/progress-parser.js';
import { PatternError } from '../../protocol/index.js';

describe('createProgressParser', () => {
  const parse = createProgressParser('PROGRESS (\\d+(?:\\.\\d+)?)');

  it('reads JSON progress lines, with or without a message', () => {
    expect(parse('{"progress":42,"message":"reading"}')).to.deep.equal({ progress: 42, message: 'reading', json: true });
    expect(parse('  {"progress": 7}  ')).to.deep.equal({ progress: 7, json: true });
  });

  it('reads JSON progress lines even without a service regex', () => {
    expect(createProgressParser()('{"progress":5}')).to.deep.equal({ progress: 5, json: true });
    expect(createProgressParser()('PROGRESS 5')).to.equal(undefined);
  });

  it('reads the first capture group of the service regex anywhere in the line', () => {
    expect(parse('PROGRESS 30')).to.deep.equal({ progress: 30, json: false });
    expect(parse('[info] PROGRESS 12.6 done')).to.deep.equal({ progress: 13, json: false });
  });

  it('clamps to 0..100 and rounds to an integer', () => {
    expect(parse('{"progress":150}')).to.deep.equal({ progress: 100, json: true });
    expect(parse('{"progress":-3}')).to.deep.equal({ progress: 0, json: true });
    expect(parse('{"progress":49.5}')).to.deep.equal({ progress: 50, json: true });
    expect(parse('PROGRESS 250')).to.deep.equal({ progress: 100, json: false });
  });

  it('takes only the exact JSON progress shape as a progress line', () => {
    for (const line of ['{"progress":"5"}', '{"progress":5,"other":1}', '{"progress":5,"message":3}', '[5]', '{"progress":5', 'null']) {
      expect(parse(line), line).to.equal(undefined);
    }
  });

  it('lets the regex see a JSON-looking line that is not a progress line', () => {
    expect(parse('{"note":"PROGRESS 20"}')).to.deep.equal({ progress: 20, json: false });
  });

  it('ignores lines without a match or without a number in the group', () => {
    expect(parse('progress 30')).to.equal(undefined);
    expect(createProgressParser('PROGRESS (\\w+)')('PROGRESS abc')).to.equal(undefined);
    expect(createProgressParser('PROGRESS \\d+')('PROGRESS 30')).to.equal(undefined);
  });

  it('cuts long JSON messages to 1000 characters', () => {
    const parsed = parse(JSON.stringify({ progress: 1, message: 'x'.repeat(1500) }));
    expect(parsed?.message).to.equal('x'.repeat(1000));
  });

  it('throws on an invalid regex, or one the linear-time engine cannot run', () => {
    expect(() => createProgressParser('(')).to.throw(
      PatternError,
      "'progress' is not a valid regular expression: Invalid regular expression: /(/u: Unterminated group",
    );
    expect(() => createProgressParser('(\\d+)(?=%)')).to.throw(
      PatternError,
      "'progress' uses a feature the linear-time engine does not support: lookahead (?=…)",
    );
  });

  it('reads a line in linear time, however the regex nests', () => {
    const started = Date.now();
    expect(createProgressParser('^(\\d+)(?:a+)+$')(`5${'a'.repeat(30)}!`)).to.equal(undefined);
    expect(createProgressParser('^(\\d+)(?:a+)+$')(`5${'a'.repeat(30)}`)).to.deep.equal({ progress: 5, json: false });
    expect(Date.now() - started).to.be.below(1000);
  });
});
