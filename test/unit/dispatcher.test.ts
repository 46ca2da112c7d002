import { expect } from 'chai';
import { Dispatcher } from '../../src/jobs/dispatcher.js';
import type { AgentFeature, ProcessSpec } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { REST_MS } from '../../src/scheduler/scheduler.js';
import { LONG_RUN_MS } from '../../src/jobs/run-times.js';
import { eventually } from '../helpers/cluster.js';
import { jobRecord } from '../helpers/job-records.js';

const LOAD = { slots: 1, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h', draining: false };
const noop = (version: string): ProcessSpec => ({ id: 'noop', keywords: [], version, inputs: {}, outputs: { result: { type: 'string' } }, maxParallel: 1, file: 'noop.properties' });

describe('Dispatcher', function () {
  let registry: AgentRegistry;
  /** Placements as [agent, job id], in order. */
  let placed: [string, string][];
  let dispatcher: Dispatcher;

  beforeEach(function () {
    registry = new AgentRegistry();
    placed = [];
    dispatcher = new Dispatcher({ registry, placed: (jobId, agent) => void placed.push([agent, jobId]) });
  });

  function offer(jid: string, version: string): void {
    registry.updatePresence(jid, LOAD, 'fleet');
    registry.setCatalog(jid, 'h', [noop(version)], []);
  }
  function submit(id: string): void {
    dispatcher.enqueue(jobRecord(id, { processId: 'noop' }));
  }
  const executes = () => placed;

  it('sends work only to agents offering the newest description of a process', function () {
    offer('old@example.org/a', '1.5.0');
    offer('new@example.org/a', '2.0.0');
    submit('j1');
    submit('j2');
    expect(executes()).to.deep.equal([['new@example.org/a', 'j1']]);
    expect(dispatcher.isQueued('j2')).to.equal(true);
  });

  it('moves a job an agent refused as busy to another agent', function () {
    offer('a@example.org/a', '1.0.0');
    offer('b@example.org/a', '1.0.0');
    submit('j1');
    expect(executes()).to.deep.equal([['a@example.org/a', 'j1']]);
    expect(dispatcher.requeue('j1', 'a@example.org/a')).to.equal(true);
    dispatcher.dispatchWaiting();
    expect(executes()).to.deep.equal([['a@example.org/a', 'j1'], ['b@example.org/a', 'j1']]);
    expect(dispatcher.assignment('j1')?.agent).to.equal('b@example.org/a');
  });

  it('places a job its only agent refused once the rest ends, even when the turn that refused it ran long', async function () {
    offer('only@example.org/a', '1.0.0');
    submit('j1');
    // A long turn before the refusal: the event loop's time, from which timers count, lags the clock.
    const turnStart = Date.now();
    while (Date.now() - turnStart < 200);
    expect(dispatcher.requeue('j1', 'only@example.org/a')).to.equal(true);
    const refusedAt = Date.now();
    dispatcher.dispatchWaiting();
    expect(dispatcher.isQueued('j1'), 'queued while its agent rests').to.equal(true);
    await eventually(() => (placed.length === 2 ? true : undefined), REST_MS + 2000, 'the job placed again');
    expect(executes()).to.deep.equal([['only@example.org/a', 'j1'], ['only@example.org/a', 'j1']]);
    expect(Date.now() - refusedAt, 'placed again after the rest, in ms').to.be.at.least(REST_MS);
  });

  it('hands an agent that keeps jobs waiting (queue) twice its slots and max_parallel, and one without the word its slots', function () {
    const offerWith = (jid: string, features: AgentFeature[]) => {
      registry.updatePresence(jid, { ...LOAD, slots: 2, features }, 'fleet');
      registry.setCatalog(jid, 'h', [{ ...noop('1.0.0'), id: jid, maxParallel: 2 }], []);
    };
    offerWith('queue@example.org/a', ['acks', 'queue']);
    offerWith('plain@example.org/a', ['acks']);
    for (let i = 0; i < 6; i++) {
      for (const processId of ['queue@example.org/a', 'plain@example.org/a']) dispatcher.enqueue(jobRecord(`${processId}-${i}`, { processId }));
    }
    const count = (agent: string) => executes().filter(([jid]) => jid === agent).length;
    expect(count('queue@example.org/a'), 'jobs handed to the agent with queue').to.equal(4);
    expect(count('plain@example.org/a'), 'jobs handed to the agent without').to.equal(2);
  });

  it('keeps no job waiting at an agent for a process whose runs are long, and again once they are short', function () {
    registry.updatePresence('queue@example.org/a', { ...LOAD, slots: 2, features: ['acks', 'queue'] }, 'fleet');
    registry.setCatalog('queue@example.org/a', 'h', [{ ...noop('1.0.0'), maxParallel: 2 }], []);
    dispatcher.recordRun('noop', LONG_RUN_MS * 5);
    for (let i = 0; i < 6; i++) submit(`j${i}`);
    expect(executes(), 'jobs handed out while runs are long').to.have.length(2);
    for (let i = 0; i < 10; i++) dispatcher.recordRun('noop', 20);
    // The jobs handed out as long count as long until they end.
    dispatcher.dispatchWaiting();
    expect(executes()).to.have.length(2);
    for (const [, jobId] of executes().slice()) dispatcher.release(jobId);
    expect(executes(), 'jobs handed out once runs are short').to.have.length(6);
  });

  it('looks only at the agents offering a waiting job\'s process, however big the fleet', function () {
    offer('busy@example.org/a', '1.0.0');
    submit('j1');
    submit('j2');
    for (let i = 0; i < 10_000; i++) {
      registry.updatePresence(`other-${i}@example.org/a`, LOAD, 'fleet');
      registry.setCatalog(`other-${i}@example.org/a`, 'h', [{ ...noop('1.0.0'), id: `other-${i}` }], []);
    }
    dispatcher.dispatchWaiting();
    const started = performance.now();
    for (let i = 0; i < 300; i++) dispatcher.dispatchWaiting();
    expect(performance.now() - started, '300 dispatches of a job with no room among 10,000 other agents, in ms').to.be.below(1000);
    expect(executes()).to.deep.equal([['busy@example.org/a', 'j1']]);
  });
});
