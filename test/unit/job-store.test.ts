import { expect } from 'chai';
import { openDatabase } from '../../src/store/database.js';
import type { JobFilter, JobRecord } from '../../src/store/job-record.js';
import { JobStore } from '../../src/store/job-store.js';
import { at, jobRecord, T0 } from '../helpers/job-records.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const job = jobRecord;
const ids = (records: JobRecord[]) => records.map((r) => r.id);

describe('JobStore', () => {
  let temp: TempDatabase;
  let store: JobStore;
  let now: number;

  beforeEach(async () => {
    temp = await openTempDatabase();
    now = T0 + 3600_000;
    store = new JobStore(temp.db, () => new Date(now));
  });
  afterEach(() => temp.dispose());

  it('round-trips every field of a record', () => {
    const full = job('j1', {
      processId: 'tools:convert',
      status: 'failed',
      owner: 'bob',
      agent: 'worker@example.org/a1',
      inputs: { name: 'x', count: 3, flag: true, nested: { list: [1, 'two', null] } },
      execution: { response: 'raw', outputs: { result: { transmissionMode: 'reference' } } },
      progress: 42.5,
      message: 'halfway',
      created: at(1),
      started: at(2),
      finished: at(3),
      updated: at(4),
      results: { result: { value: { a: 1 } }, file: { href: 'http://h/f', mediaType: 'text/plain', size: 3 } },
      error: { code: 'exit', message: 'exit code 2', exitCode: 2, signal: 'SIGTERM', stderr: 'boom' },
      lastSeq: 7,
      dismissedBy: 'admin',
    });
    store.create(full);
    store.create(job('j2'));
    expect(store.get('j1')).to.deep.equal(full);
    expect(store.get('j2')).to.deep.equal(job('j2'));
    expect(store.get('nope')).to.equal(undefined);
  });

  it('refuses a second job with the same id', () => {
    store.create(job('j1'));
    expect(() => store.create(job('j1'))).to.throw('UNIQUE constraint failed: jobs.id');
  });

  describe('list filters', () => {
    beforeEach(() => {
      store.create(job('a', { processId: 'echo', status: 'successful', owner: 'alice', agent: 'w1', created: at(10) }));
      store.create(job('b', { processId: 'noop', status: 'running', owner: 'bob', agent: 'w2', created: at(20) }));
      store.create(job('c', { processId: 'slow', status: 'failed', owner: 'alice', agent: 'w2', created: at(30) }));
      store.create(job('d', { processId: 'echo', status: 'accepted', owner: 'bob', created: at(40) }));
      store.create(job('e', { processId: 'echo', status: 'running', owner: 'alice', agent: 'w1', created: at(40) }));
    });
    const list = (filter: Partial<JobFilter>) => ids(store.list({ limit: 100, offset: 0, ...filter }).jobs);

    it('lists all newest first, ties by id descending', () => {
      expect(list({})).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    });
    it('filters by any of the process ids', () => {
      expect(list({ processIds: ['noop', 'slow'] })).to.deep.equal(['c', 'b']);
      expect(list({ processIds: ['missing'] })).to.deep.equal([]);
    });
    it('treats an empty list as no restriction', () => {
      expect(list({ processIds: [], statuses: [] })).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    });
    it('filters by any of the statuses', () => {
      expect(list({ statuses: ['running', 'accepted'] })).to.deep.equal(['e', 'd', 'b']);
    });
    it('filters by owner', () => {
      expect(list({ owner: 'bob' })).to.deep.equal(['d', 'b']);
    });
    it('filters by agent', () => {
      expect(list({ agent: 'w2' })).to.deep.equal(['c', 'b']);
    });
    it('filters by a bare JID across the resources of its account, and by a full JID exactly', () => {
      store.create(job('f', { agent: 'w3@example.org/a', created: at(50) }));
      store.create(job('g', { agent: 'w3@example.org/b', created: at(60) }));
      store.create(job('h', { agent: 'w3@example.org/a/x', created: at(70) }));
      store.create(job('i', { agent: 'w3@example.orgy/a', created: at(80) }));
      expect(list({ agent: 'w3@example.org' })).to.deep.equal(['h', 'g', 'f']);
      expect(list({ agent: 'w3@example.org/a' })).to.deep.equal(['f']);
    });
    it('counts the unfinished jobs handed to each agent', () => {
      store.create(job('f', { status: 'accepted', agent: 'w1' }));
      expect([...store.assignedPerAgent()].sort()).to.deep.equal([
        ['w1', 2],
        ['w2', 1],
      ]);
    });
    it('filters by an inclusive created interval with either end open', () => {
      expect(list({ createdFrom: at(20), createdTo: at(30) })).to.deep.equal(['c', 'b']);
      expect(list({ createdFrom: at(30) })).to.deep.equal(['e', 'd', 'c']);
      expect(list({ createdTo: at(20) })).to.deep.equal(['b', 'a']);
    });
    it('compares created bounds given without milliseconds or in another offset as instants', () => {
      expect(list({ createdFrom: '2024-05-01T12:00:20Z', createdTo: '2024-05-01T14:00:30+02:00' })).to.deep.equal([
        'c',
        'b',
      ]);
    });
    it('combines filters', () => {
      expect(list({ processIds: ['echo'], owner: 'alice' })).to.deep.equal(['e', 'a']);
      expect(list({ processIds: ['echo', 'slow'], statuses: ['running', 'failed'], agent: 'w1' })).to.deep.equal(['e']);
      expect(list({ owner: 'alice', createdFrom: at(15), statuses: ['failed'] })).to.deep.equal(['c']);
    });
  });

  describe('paging', () => {
    beforeEach(() => {
      for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) store.create(job(id, { created: at(i) }));
    });
    const page = (limit: number, offset: number) => {
      const result = store.list({ limit, offset });
      return { ids: ids(result.jobs), more: result.more };
    };

    it('pages without overlap and tells whether more follow', () => {
      expect(page(2, 0)).to.deep.equal({ ids: ['e', 'd'], more: true });
      expect(page(2, 2)).to.deep.equal({ ids: ['c', 'b'], more: true });
      expect(page(2, 4)).to.deep.equal({ ids: ['a'], more: false });
    });
    it('says no more when the page ends exactly at the last job', () => {
      expect(page(5, 0)).to.deep.equal({ ids: ['e', 'd', 'c', 'b', 'a'], more: false });
      expect(page(4, 0)).to.deep.equal({ ids: ['e', 'd', 'c', 'b'], more: true });
      expect(page(3, 5)).to.deep.equal({ ids: [], more: false });
    });
  });

  describe('duration filters', () => {
    beforeEach(() => {
      now = T0 + 100_000;
      store.create(job('queued', { created: at(0) }));
      store.create(job('running', { status: 'running', created: at(1), started: at(70) }));
      store.create(job('short', { status: 'successful', created: at(2), started: at(10), finished: at(20) }));
      store.create(job('long', { status: 'failed', created: at(3), started: at(10), finished: at(70.5) }));
    });
    const list = (filter: Partial<JobFilter>) => ids(store.list({ limit: 100, offset: 0, ...filter }).jobs);

    it('measures running jobs up to now and excludes jobs never started', () => {
      expect(list({ minDuration: 0 })).to.deep.equal(['long', 'short', 'running']);
      expect(list({ minDuration: 30 })).to.deep.equal(['long', 'running']);
      expect(list({ maxDuration: 30 })).to.deep.equal(['short', 'running']);
    });
    it('includes both bounds to the millisecond', () => {
      expect(list({ minDuration: 10, maxDuration: 10 })).to.deep.equal(['short']);
      expect(list({ minDuration: 60.5 })).to.deep.equal(['long']);
      expect(list({ minDuration: 60.501 })).to.deep.equal([]);
    });
    it('lets a running job grow into a range as time passes', () => {
      expect(list({ minDuration: 40 })).to.deep.equal(['long']);
      now += 15_000;
      expect(list({ minDuration: 40 })).to.deep.equal(['long', 'running']);
    });
    it('combines with other filters', () => {
      expect(list({ minDuration: 20, statuses: ['failed'] })).to.deep.equal(['long']);
    });
  });

  describe('transitions', () => {
    beforeEach(() => store.create(job('j')));

    it('updates the given fields and stamps updated unless given', () => {
      const updated = store.update('j', { message: 'queued behind 3', progress: undefined });
      expect(updated).to.deep.equal(job('j', { message: 'queued behind 3', updated: new Date(now).toISOString() }));
      expect(store.get('j')).to.deep.equal(updated);
      expect(store.update('j', { agent: 'w1', updated: at(5) })?.updated).to.equal(at(5));
      expect(store.update('nope', { message: 'x' })).to.equal(undefined);
    });

    it('records the agent a job was handed to, and forgets it when the job is queued again', () => {
      store.setAgent('j', 'w1/r');
      expect(store.get('j')).to.include({ agent: 'w1/r', status: 'accepted', updated: new Date(now).toISOString() });
      store.setAgent('j', null);
      expect(store.get('j')!.agent).to.equal(null);
    });

    it('marks a job running once, writes nothing for a repeat, and keeps the first start time', () => {
      const running = store.markRunning('j', 'w1/r', at(50));
      expect(running).to.deep.equal(
        job('j', { status: 'running', agent: 'w1/r', started: at(50), updated: new Date(now).toISOString() }),
      );
      // A repeated report from the same agent (e.g. its `jobs` list after a reconnect) writes nothing.
      expect(store.markRunning('j', 'w1/r', at(60))).to.equal(undefined);
      expect(store.get('j')).to.deep.equal(running);
      expect(store.markRunning('j', 'w1/other', at(60))).to.deep.include({ agent: 'w1/other', started: at(50) });
      store.finish('j', 0, { status: 'dismissed', dismissedBy: 'admin' });
      expect(store.markRunning('j', 'w1/r', at(70))).to.equal(undefined);
      expect(store.get('j')?.status).to.equal('dismissed');
    });

    it('applies progress once per sequence number and never after the end', () => {
      expect(store.recordProgress('j', 1, 10, 'reading')).to.equal(true);
      expect(store.recordProgress('j', 1, 20, 'repeat')).to.equal(false);
      expect(store.recordProgress('j', 0, 30, 'older')).to.equal(false);
      expect(store.get('j')).to.include({ progress: 10, message: 'reading', lastSeq: 1 });
      expect(store.recordProgress('j', 3, 50, null)).to.equal(true);
      expect(store.get('j')).to.include({ progress: 50, message: 'reading', lastSeq: 3 });
      store.finish('j', 4, { status: 'failed', error: { code: 'exit', message: 'exit code 1', exitCode: 1 } });
      expect(store.recordProgress('j', 5, 60, 'late')).to.equal(false);
      expect(store.get('j')).to.include({ progress: 50, message: 'reading', lastSeq: 4 });
    });

    it('finishes once by sequence number', () => {
      store.recordProgress('j', 2, 40, 'working');
      expect(store.finish('j', 2, { status: 'successful', results: { r: { value: 1 } } })).to.equal(undefined);
      const finished = store.finish('j', 3, { status: 'successful', results: { r: { value: 'ok' } } });
      const stamp = new Date(now).toISOString();
      expect(finished).to.deep.equal(
        job('j', {
          status: 'successful',
          progress: 100,
          message: 'working',
          finished: stamp,
          updated: stamp,
          results: { r: { value: 'ok' } },
          lastSeq: 3,
        }),
      );
      now += 1000;
      expect(store.finish('j', 3, { status: 'successful', results: { r: { value: 'again' } } })).to.equal(undefined);
      expect(store.finish('j', 4, { status: 'failed', error: { code: 'internal', message: 'x' } })).to.equal(undefined);
      expect(store.finish('j', 0, { status: 'dismissed', dismissedBy: null })).to.equal(undefined);
      expect(store.get('j')).to.deep.equal(finished);
    });

    it('applies orchestrator outcomes (seq 0) to any unfinished job and keeps lastSeq', () => {
      store.recordProgress('j', 5, 40, null);
      const failed = store.finish('j', 0, { status: 'failed', error: { code: 'agent-lost', message: 'agent w1 gone' } });
      expect(failed).to.include({ status: 'failed', lastSeq: 5, progress: 40, results: null, dismissedBy: null });
      expect(failed?.error).to.deep.equal({ code: 'agent-lost', message: 'agent w1 gone' });
      store.create(job('k'));
      expect(store.finish('k', 0, { status: 'dismissed', dismissedBy: 'carol' })).to.include({
        status: 'dismissed',
        dismissedBy: 'carol',
        error: null,
        finished: new Date(now).toISOString(),
      });
    });

    it('removes a job', () => {
      expect(store.remove('j')).to.equal(true);
      expect(store.remove('j')).to.equal(false);
      expect(store.get('j')).to.equal(undefined);
    });
  });

  it('lists unfinished jobs oldest first', () => {
    store.create(job('done', { status: 'successful', created: at(0) }));
    store.create(job('run', { status: 'running', created: at(3) }));
    store.create(job('wait2', { created: at(2) }));
    store.create(job('wait1', { created: at(2) }));
    store.create(job('gone', { status: 'dismissed', created: at(4) }));
    expect(ids(store.unfinished())).to.deep.equal(['wait1', 'wait2', 'run']);
  });

  it('keeps jobs when the same file is opened again', () => {
    store.create(job('kept', { inputs: { a: 1 } }));
    temp.db.close();
    const reopened = openDatabase(temp.file);
    try {
      expect(new JobStore(reopened).get('kept')).to.deep.equal(job('kept', { inputs: { a: 1 } }));
    } finally {
      reopened.close();
    }
  });
});
