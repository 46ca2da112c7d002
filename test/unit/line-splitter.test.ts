import { expect } from 'chai';
import { LineSplitter } from '../../agent/runner/line-splitter.js';

function split(chunks: string[], maxLineBytes?: number) {
  const segments: Array<[string, string | undefined]> = [];
  const splitter = new LineSplitter((bytes, line) => segments.push([bytes.toString('utf8'), line]), maxLineBytes);
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.end();
  return segments;
}

describe('LineSplitter', () => {
  it('cuts at LF, CRLF and lone CR, keeping the terminators in the bytes', () => {
    expect(split(['a\nb\r\nc\rd'])).to.deep.equal([
      ['a\n', 'a'],
      ['b\r\n', 'b'],
      ['c\r', 'c'],
      ['d', 'd'],
    ]);
  });

  it('joins lines split across chunks, also between CR and LF', () => {
    expect(split(['ab', 'c\r', '\nde', 'f\r', 'g\n'])).to.deep.equal([
      ['abc\r\n', 'abc'],
      ['def\r', 'def'],
      ['g\n', 'g'],
    ]);
  });

  it('does not cut a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('é✓\n');
    const segments: Array<string | undefined> = [];
    const splitter = new LineSplitter((_, line) => segments.push(line));
    splitter.push(bytes.subarray(0, 1));
    splitter.push(bytes.subarray(1, 3));
    splitter.push(bytes.subarray(3));
    expect(segments).to.deep.equal(['é✓']);
  });

  it('passes an overlong line on in pieces that are not lines', () => {
    expect(split(['12345', '678', '9\nok\n'], 6)).to.deep.equal([
      ['12345678', undefined],
      ['9\n', undefined],
      ['ok\n', 'ok'],
    ]);
  });

  it('keeps empty lines and passes nothing for an empty stream', () => {
    expect(split(['\n\n'])).to.deep.equal([
      ['\n', ''],
      ['\n', ''],
    ]);
    expect(split([])).to.deep.equal([]);
  });
});
