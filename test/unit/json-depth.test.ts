import { expect } from 'chai';
import { decodeAgentMessage, MAX_JSON_DEPTH, nestsDeeperThan } from '../../protocol/index.js';

describe('JSON depth limit', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('counts objects and arrays, not brackets inside strings or after escaped quotes', () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH))).to.equal(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).to.equal(true);
    expect(nestsDeeperThan(`{"a":{"b":[1,{"c":2}]}}`, 4)).to.equal(false);
    expect(nestsDeeperThan(`{"a":{"b":[1,{"c":2}]}}`, 3)).to.equal(true);
    expect(nestsDeeperThan(JSON.stringify({ text: '[[[[[[', quoted: 'say \\"[[[[' }), 1)).to.equal(false);
  });

  it('refuses a deeply nested body before parsing it, naming the limit', () => {
    const body = `{"v":1,"type":"completed","job":"j","seq":2,"outputs":{"out":{"value":${nested(20_000)}}}}`;
    expect(decodeAgentMessage(body)).to.deep.equal({ ok: false, error: 'body nests objects and arrays deeper than 32 levels' });
  });
});
