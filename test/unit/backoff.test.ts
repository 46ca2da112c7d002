import { expect } from 'chai';
import { backoffDelay, isTransient } from '../../xmpp/backoff.js';

describe('reconnect backoff', () => {
  const policy = { initialMs: 1000, maxMs: 60_000 };

  it('doubles from the initial wait up to the cap, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3, 6, 7, 50].map((attempt) => backoffDelay(attempt, policy, () => 1))).to.deep.equal([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
    expect([0, 1, 2, 10].map((attempt) => backoffDelay(attempt, policy, () => 0))).to.deep.equal([500, 1000, 2000, 30_000]);
    for (let i = 0; i < 100; i++) expect(backoffDelay(3, policy)).to.be.within(4000, 8000);
  });

  it('retries network failures only', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT']) expect(isTransient(Object.assign(new Error(code), { code }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('not-authorized'), { name: 'SASLError' }))).to.equal(false);
    expect(isTransient(undefined)).to.equal(false);
  });
});
