import { expect } from 'chai';
import { WaitingRuns, type RunningCounts, type WaitingRun } from '../../agent/jobs/waiting-runs.js';

const run = (job: string, process = 'p', limit = 2): WaitingRun => ({ job, process, limit });
/** Runs going on, as [process, count]. */
const running = (...counts: [string, number][]): RunningCounts => ({
  total: counts.reduce((sum, [, n]) => sum + n, 0),
  ofProcess: (process) => counts.find(([p]) => p === process)?.[1] ?? 0,
});
const jobs = (runs: WaitingRun[]) => runs.map((r) => r.job);

describe('WaitingRuns, the jobs an agent keeps beyond its slots', function () {
  it('starts jobs in arrival order once a slot is free', function () {
    const waiting = new WaitingRuns(2);
    waiting.add(run('a'));
    waiting.add(run('b'));
    expect(waiting.takeNext(running(['p', 2])), 'with every slot taken').to.equal(undefined);
    expect(waiting.takeNext(running(['p', 1]))?.job).to.equal('a');
    expect(waiting.takeNext(running(['p', 1]))?.job).to.equal('b');
    expect(waiting.all()).to.deep.equal([]);
  });

  it('passes over a job whose process is at its limit and starts the first one that may run', function () {
    const waiting = new WaitingRuns(4);
    waiting.add(run('limited-1', 'limited', 1));
    waiting.add(run('free-1', 'free'));
    waiting.add(run('limited-2', 'limited', 1));
    expect(waiting.takeNext(running(['limited', 1]))?.job).to.equal('free-1');
    expect(waiting.takeNext(running(['limited', 1], ['free', 1])), 'only jobs of the limited process wait').to.equal(undefined);
    expect(waiting.takeNext(running(['free', 1]))?.job).to.equal('limited-1');
    expect(jobs(waiting.all())).to.deep.equal(['limited-2']);
  });

  it('holds at most one job per slot and refuses a job it already holds', function () {
    const waiting = new WaitingRuns(2);
    expect(waiting.add(run('a'))).to.equal(true);
    expect(waiting.add(run('a')), 'the same job again').to.equal(false);
    expect(waiting.add(run('b'))).to.equal(true);
    expect(waiting.full).to.equal(true);
    expect(waiting.add(run('c')), 'beyond the bound').to.equal(false);
    expect(jobs(waiting.all())).to.deep.equal(['a', 'b']);
  });

  it('removes a killed job and keeps the order of the others', function () {
    const waiting = new WaitingRuns(3);
    for (const job of ['a', 'b', 'c']) waiting.add(run(job));
    expect(waiting.remove('b')?.job).to.equal('b');
    expect(waiting.remove('b'), 'a job no longer held').to.equal(undefined);
    expect(waiting.get('b')).to.equal(undefined);
    expect(jobs(waiting.all())).to.deep.equal(['a', 'c']);
    expect(waiting.add(run('d')), 'room again').to.equal(true);
  });

  it('hands every job back at once, in arrival order, and is empty after', function () {
    const waiting = new WaitingRuns(2);
    waiting.add(run('a'));
    waiting.add(run('b'));
    expect(jobs(waiting.takeAll())).to.deep.equal(['a', 'b']);
    expect(waiting.all()).to.deep.equal([]);
    expect(waiting.takeNext(running()), 'nothing left to start').to.equal(undefined);
  });
});
