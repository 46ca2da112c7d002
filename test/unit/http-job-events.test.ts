import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERROR_TYPES } from '../../src/errors.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { EventStreamReader, type ServerSentEvent } from '../helpers/event-stream.js';
import { eventually } from '../helpers/cluster.js';
import { at, jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

describe('HTTP job events (Server-Sent Events)', () => {
  let h: Harness;
  const readers: EventStreamReader[] = [];

  beforeEach(async () => {
    h = await startHarness([spec('echo')], { heartbeatMs: 50 });
    h.jobs.create(jobRecord('run', { status: 'running', created: at(0), started: at(1), updated: at(2), progress: 20, message: 'step 1' }));
    h.jobs.create(jobRecord('done', { status: 'successful', created: at(0), started: at(1), finished: at(3), updated: at(3), progress: 100 }));
  });
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.close().catch(() => undefined)));
    await h.close();
  });

  async function open(jobId: string): Promise<{ response: Response; reader: EventStreamReader }> {
    const response = await h.api(`${h.url}/jobs/${jobId}/events`);
    const reader = new EventStreamReader(response);
    readers.push(reader);
    return { response, reader };
  }
  const change = (jobId: string, patch: Partial<JobRecord>) => h.updates.publish(h.jobs.update(jobId, patch)!);
  const status = (event: ServerSentEvent | undefined) => {
    if (event?.event !== 'status') throw new Error(`expected a status event, got ${JSON.stringify(event)}`);
    return JSON.parse(event.data) as { jobID: string; status: string; progress: number; message?: string; links: { href: string }[] };
  };

  it('sends the current status, then each change, and ends after the finished one', async () => {
    const { response, reader } = await open('run');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).to.equal('no-cache');
    const first = await reader.next();
    expect(first).to.include({ event: 'status', id: '1' });
    expect(status(first)).to.deep.include({ jobID: 'run', status: 'running', progress: 20, message: 'step 1' });
    expect(status(first).links[0]!.href).to.equal(`${h.url}/jobs/run`);

    change('run', { progress: 60, message: 'step 3' });
    change('run', { status: 'successful', progress: 100, finished: at(9) });
    const second = await reader.next();
    expect(second?.id).to.equal('2');
    expect(status(second)).to.deep.include({ status: 'running', progress: 60, message: 'step 3' });
    const third = await reader.next();
    expect(third?.id).to.equal('3');
    expect(status(third)).to.deep.include({ status: 'successful', progress: 100 });
    expect(await reader.next()).to.equal(undefined);
    expect(h.updates.listenerCount('run')).to.equal(0);
  });

  it('sends a finished job its one status and ends at once', async () => {
    const { reader } = await open('done');
    const events = await reader.rest();
    expect(events.map((e) => [e.id, status(e).status])).to.deep.equal([['1', 'successful']]);
    expect(h.updates.listenerCount('done')).to.equal(0);
  });

  it('ends with a dismissal, naming who dismissed the job', async () => {
    const { reader } = await open('run');
    await reader.next();
    change('run', { status: 'dismissed', dismissedBy: 'admin' });
    const events = await reader.rest();
    expect(events.map(status).map((s) => [s.status, s.message])).to.deep.equal([['dismissed', 'dismissed by admin']]);
  });

  it('keeps a quiet stream alive with comments', async () => {
    const { reader } = await open('run');
    await reader.next();
    expect(await reader.nextItem(1000)).to.deep.equal({ comment: 'keep-alive' });
    expect(await reader.nextItem(1000)).to.deep.equal({ comment: 'keep-alive' });
  });

  it('unsubscribes when the client goes away', async () => {
    const { reader } = await open('run');
    await reader.next();
    expect(h.updates.listenerCount('run')).to.equal(1);
    await reader.close();
    await eventually(() => (h.updates.listenerCount('run') === 0 ? true : undefined), 2000, 'no listener left');
    // Leaving is how event streams normally end: nothing is logged as an error.
    await sleep(50);
    expect(h.logs.filter((line) => line['level'] !== 30)).to.deep.equal([]);
  });

  it('answers an unknown job with no-such-job', async () => {
    const response = await h.api(`${h.url}/jobs/nope/events`);
    expect(response.status).to.equal(404);
    expect(await problemOf(response)).to.include({ type: ERROR_TYPES['no-such-job'], detail: "job 'nope' does not exist" });
    expect(h.updates.listenerCount('nope')).to.equal(0);
  });
});
