import { expect } from 'chai';
import { median, ratio, summarize } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('takes the middle figure, or the mean of the middle two, skipping missing ones', () => {
    expect(median([480.4, 612.2, 455.1])).to.equal(480.4);
    expect(median([455.1, 612.2])).to.equal(533.65);
    expect(median([undefined, 12.5, Number.NaN])).to.equal(12.5);
    expect(median([undefined])).to.equal(undefined);
    expect(ratio(median([500, 600]), median([])), 'a side with no figure gives no ratio').to.equal(null);
  });

  it('gives nearest-rank percentiles', () => {
    expect(summarize([5, 1, 4, 2, 3])).to.deep.equal({ count: 5, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
    expect(summarize([])).to.equal(null);
  });
});
