import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressCoalescer } from '../../agent/runner/progress-coalescer.js';
import type { Progress } from '../../agent/runner/progress-parser.js';

const INTERVAL_MS = 100;

describe('ProgressCoalescer', () => {
  let delivered: Array<Progress & { at: number }>;
  let coalescer: ProgressCoalescer;

  beforeEach(() => {
    delivered = [];
    coalescer = new ProgressCoalescer((progress) => delivered.push({ ...progress, at: performance.now() }), INTERVAL_MS);
  });

  afterEach(() => coalescer.flush());

  const values = () => delivered.map(({ progress, message }) => (message === undefined ? progress : `${progress} ${message}`));

  it('delivers the first report at once and the latest of a burst after the interval', async () => {
    coalescer.push({ progress: 1 });
    expect(values()).to.deep.equal([1]);
    coalescer.push({ progress: 2 });
    coalescer.push({ progress: 3 });
    expect(values()).to.deep.equal([1]);
    await sleep(INTERVAL_MS * 3);
    expect(values()).to.deep.equal([1, 3]);
    const [first, second] = delivered;
    expect(second!.at - first!.at).to.be.at.least(INTERVAL_MS - 5);
  });

  it('never delivers the same report twice in a row', async () => {
    coalescer.push({ progress: 5 });
    coalescer.push({ progress: 5 });
    coalescer.push({ progress: 6 });
    coalescer.push({ progress: 5 });
    await sleep(INTERVAL_MS * 3);
    coalescer.flush();
    expect(values()).to.deep.equal([5]);
  });

  it('treats a new message at the same percent as a new report', () => {
    coalescer.push({ progress: 5, message: 'a' });
    coalescer.push({ progress: 5, message: 'b' });
    coalescer.flush();
    expect(values()).to.deep.equal(['5 a', '5 b']);
  });

  it('delivers the pending report at once on flush', () => {
    coalescer.push({ progress: 10 });
    coalescer.push({ progress: 20 });
    coalescer.flush();
    expect(values()).to.deep.equal([10, 20]);
  });
});
