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

describe('LineSplitter records that are not lines', () => {
  it("ends a record after GDAL's percent and three dots, and nowhere else on dots", () => {
    expect(split(['Input size\n0..', '.10...2', '0...100 - done.\n'])).to.deep.equal([
      ['Input size\n', 'Input size'],
      ['0...', '0...'],
      ['10...', '10...'],
      ['20...', '20...'],
      ['100 - done.\n', '100 - done.'],
    ]);
    // gdalwarp puts its first step at the end of a line of text.
    expect(split(['Processing a.tif [1/1] : 0', '...10...20', '...100 - done.\n'])).to.deep.equal([
      ['Processing a.tif [1/1] : 0...', 'Processing a.tif [1/1] : 0...'],
      ['10...', '10...'],
      ['20...', '20...'],
      ['100 - done.\n', '100 - done.'],
    ]);
    expect(split(['Loading...\n', 'v1.2...x\n', '1234...\n'])).to.deep.equal([
      ['Loading...\n', 'Loading...'],
      ['v1.2...x\n', 'v1.2...x'],
      ['1234...\n', '1234...'],
    ]);
  });

  it('ends an unterminated record once the stream has been quiet, and only then', async () => {
    const records: Array<string | undefined> = [];
    const splitter = new LineSplitter((_, line) => records.push(line), 1000, 30);
    splitter.push(Buffer.from('Progress: 5%'));
    expect(records).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(records).to.deep.equal(['Progress: 5%']);
    splitter.push(Buffer.from('\rProgress: 9%\r'));
    await new Promise((resolve) => setTimeout(resolve, 80));
    splitter.end();
    expect(records).to.deep.equal(['Progress: 5%', '', 'Progress: 9%']);
  });
});

describe('LineSplitter quiet spells inside GDAL progress', () => {
  it("waits for the dots of 'N...' however slowly they come, and cuts anything else", async () => {
    const records: Array<string | undefined> = [];
    const splitter = new LineSplitter((_, line) => records.push(line), 1000, 20);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 60));
    for (const piece of ['0', '.', '..', '10', '..', '.', '10', '0 - done.']) {
      splitter.push(Buffer.from(piece));
      await pause();
    }
    splitter.end();
    expect(records).to.deep.equal(['0...', '10...', '100 - done.']);
  });
});
