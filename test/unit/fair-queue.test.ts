import { expect } from 'chai';
import { FairQueue, type Offer, type Queued } from '../../src/scheduler/fair-queue.js';

const JOBS = 10_000;
const OWNERS = 100;
/** A handful of heap levels, each comparing at most a few owners, plus the items offered. */
const LOGARITHMIC = 4 * Math.ceil(Math.log2(JOBS));

function deepQueue(): FairQueue<Queued> {
  const queue = new FairQueue<Queued>();
  for (let i = 0; i < JOBS; i++) queue.push({ id: `j${i}`, owner: `u${i % OWNERS}`, processId: i % 3 === 0 ? 'slow' : 'fast' });
  return queue;
}

/** Drains with room for `room` jobs; returns the owners served and the work it took. */
function placeSome(queue: FairQueue<Queued>, room: number, verdict: (item: Queued) => Offer = () => 'placed') {
  const before = queue.steps;
  const served: string[] = [];
  let offered = 0;
  queue.drain((item) => {
    offered += 1;
    if (served.length === room) return 'stop';
    const outcome = verdict(item);
    if (outcome === 'placed') served.push(item.owner);
    return outcome;
  });
  return { served, offered, steps: queue.steps - before };
}

describe('FairQueue with 10,000 jobs waiting across 100 owners', function () {
  it('places one job with work logarithmic in the queue, not a pass over it', function () {
    const queue = deepQueue();
    placeSome(queue, OWNERS * 3);
    for (let i = 0; i < 50; i++) {
      const { served, offered, steps } = placeSome(queue, 1);
      expect(served).to.have.length(1);
      expect(offered).to.equal(2);
      expect(steps).to.be.at.most(LOGARITHMIC);
    }
  });

  it('finds, removes and queues again any job without looking through the others', function () {
    const queue = deepQueue();
    const before = queue.steps;
    expect(queue.has('j9999')).to.equal(true);
    expect(queue.remove('j5000')?.owner).to.equal('u0');
    queue.unshift({ id: 'j5000', owner: 'u0', processId: 'slow' });
    expect(queue.size).to.equal(JOBS);
    expect(queue.steps - before).to.be.at.most(LOGARITHMIC);
  });

  it('skips a full process and an owner at its limit at a cost of their own, not of their jobs', function () {
    const queue = deepQueue();
    const { served, steps } = placeSome(queue, 2, (item) => (item.processId === 'slow' ? 'process-full' : item.owner === 'u1' ? 'owner-full' : 'placed'));
    // u0's first job is 'slow', so its next 'fast' one goes; u1 is at its limit and keeps its place in the order.
    expect(served).to.deep.equal(['u0', 'u2']);
    expect(steps).to.be.at.most(2 * LOGARITHMIC);
    expect(placeSome(queue, 2).served).to.deep.equal(['u1', 'u3']);
  });
});
