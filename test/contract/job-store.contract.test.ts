import { expect } from 'chai';
import type { JobFilter, JobRecord } from '../../src/store/job-record.js';
import type { JobStoreApi } from '../../src/store/job-store-api.js';
import { at, jobRecord as job, T0 } from '../helpers/job-records.js';
import { tokenDigest } from '../../src/store/token-digest.js';
import { newUploadToken } from '../../src/store/upload-tokens.js';
import { clock, forEachStore } from './stores-under-test.js';

const ids = (records: JobRecord[]) => records.map((r) => r.id);
const stamp = () => new Date(clock.now).toISOString();

forEachStore('Job store contract: records, queries and transitions', (subject, backend) => {
  let store: JobStoreApi;
  beforeEach(() => {
    clock.now = T0 + 3600_000;
    store = subject().jobs;
  });
  const createAll = async (records: JobRecord[]) => {
    for (const record of records) await store.create(record);
  };

  it('round-trips every field of a record', async () => {
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
    expect(await store.create(full)).to.deep.equal(full);
    await store.create(job('j2'));
    expect(await store.get('j1')).to.deep.equal(full);
    expect(await store.get('j2')).to.deep.equal(job('j2'));
    expect(await store.get('nope')).to.equal(undefined);
  });

  it('stores a job handed out as it is created with the upload token of its dispatch, as assign does', async () => {
    const token = newUploadToken();
    const created = await store.create(job('handed-out', { agent: 'w1/r' }), tokenDigest(token));
    await store.create(job('waiting'));
    expect(created.agent).to.equal('w1/r');
    expect(await subject().uploadTokens.matches('handed-out', token)).to.equal(true);
    expect(await subject().uploadTokens.matches('handed-out', newUploadToken())).to.equal(false);
    expect(await subject().uploadTokens.matches('waiting', token)).to.equal(false);
  });

  it('refuses a second job with the same id', async () => {
    await store.create(job('j1'));
    const error = await store.create(job('j1')).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.match(backend.duplicateIdError);
  });

  describe('list filters', () => {
    beforeEach(() =>
      createAll([
        job('a', { processId: 'echo', status: 'successful', owner: 'alice', agent: 'w1', created: at(10) }),
        job('b', { processId: 'noop', status: 'running', owner: 'bob', agent: 'w2', created: at(20) }),
        job('c', { processId: 'slow', status: 'failed', owner: 'alice', agent: 'w2', created: at(30) }),
        job('d', { processId: 'echo', status: 'accepted', owner: 'bob', created: at(40) }),
        job('e', { processId: 'echo', status: 'running', owner: 'alice', agent: 'w1', created: at(40) }),
      ]),
    );
    const list = async (filter: Partial<JobFilter>) => ids((await store.list({ limit: 100, offset: 0, ...filter })).jobs);

    it('lists all newest first, ties by id descending', async () => {
      expect(await list({})).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    });
    it('filters by any of the process ids', async () => {
      expect(await list({ processIds: ['noop', 'slow'] })).to.deep.equal(['c', 'b']);
      expect(await list({ processIds: ['missing'] })).to.deep.equal([]);
    });
    it('treats an empty list as no restriction', async () => {
      expect(await list({ processIds: [], statuses: [] })).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    });
    it('filters by any of the statuses', async () => {
      expect(await list({ statuses: ['running', 'accepted'] })).to.deep.equal(['e', 'd', 'b']);
    });
    it('filters by owner', async () => {
      expect(await list({ owner: 'bob' })).to.deep.equal(['d', 'b']);
    });
    it('filters by agent', async () => {
      expect(await list({ agent: 'w2' })).to.deep.equal(['c', 'b']);
    });
    it('filters by a bare JID across the resources of its account, and by a full JID exactly', async () => {
      await createAll([
        job('f', { agent: 'w3@example.org/a', created: at(50) }),
        job('g', { agent: 'w3@example.org/b', created: at(60) }),
        job('h', { agent: 'w3@example.org/a/x', created: at(70) }),
        job('i', { agent: 'w3@example.orgy/a', created: at(80) }),
      ]);
      expect(await list({ agent: 'w3@example.org' })).to.deep.equal(['h', 'g', 'f']);
      expect(await list({ agent: 'w3@example.org/a' })).to.deep.equal(['f']);
    });
    it('counts the unfinished jobs handed to each agent', async () => {
      await store.create(job('f', { status: 'accepted', agent: 'w1' }));
      expect([...(await store.assignedPerAgent())].sort()).to.deep.equal([
        ['w1', 2],
        ['w2', 1],
      ]);
    });
    it('filters by an inclusive created interval with either end open', async () => {
      expect(await list({ createdFrom: at(20), createdTo: at(30) })).to.deep.equal(['c', 'b']);
      expect(await list({ createdFrom: at(30) })).to.deep.equal(['e', 'd', 'c']);
      expect(await list({ createdTo: at(20) })).to.deep.equal(['b', 'a']);
    });
    it('compares created bounds given without milliseconds or in another offset as instants', async () => {
      expect(await list({ createdFrom: '2024-05-01T12:00:20Z', createdTo: '2024-05-01T14:00:30+02:00' })).to.deep.equal(['c', 'b']);
    });
    it('combines filters', async () => {
      expect(await list({ processIds: ['echo'], owner: 'alice' })).to.deep.equal(['e', 'a']);
      expect(await list({ processIds: ['echo', 'slow'], statuses: ['running', 'failed'], agent: 'w1' })).to.deep.equal(['e']);
      expect(await list({ owner: 'alice', createdFrom: at(15), statuses: ['failed'] })).to.deep.equal(['c']);
    });
  });

  describe('paging', () => {
    beforeEach(() => createAll(['a', 'b', 'c', 'd', 'e'].map((id, i) => job(id, { created: at(i) }))));
    const page = async (limit: number, offset: number) => {
      const result = await store.list({ limit, offset });
      return { ids: ids(result.jobs), more: result.more };
    };

    it('pages without overlap and tells whether more follow', async () => {
      expect(await page(2, 0)).to.deep.equal({ ids: ['e', 'd'], more: true });
      expect(await page(2, 2)).to.deep.equal({ ids: ['c', 'b'], more: true });
      expect(await page(2, 4)).to.deep.equal({ ids: ['a'], more: false });
    });
    it('says no more when the page ends exactly at the last job', async () => {
      expect(await page(5, 0)).to.deep.equal({ ids: ['e', 'd', 'c', 'b', 'a'], more: false });
      expect(await page(4, 0)).to.deep.equal({ ids: ['e', 'd', 'c', 'b'], more: true });
      expect(await page(3, 5)).to.deep.equal({ ids: [], more: false });
    });
  });

  describe('duration filters', () => {
    beforeEach(async () => {
      clock.now = T0 + 100_000;
      await createAll([
        job('queued', { created: at(0) }),
        job('running', { status: 'running', created: at(1), started: at(70) }),
        job('short', { status: 'successful', created: at(2), started: at(10), finished: at(20) }),
        job('long', { status: 'failed', created: at(3), started: at(10), finished: at(70.5) }),
      ]);
    });
    const list = async (filter: Partial<JobFilter>) => ids((await store.list({ limit: 100, offset: 0, ...filter })).jobs);

    it('measures running jobs up to now and excludes jobs never started', async () => {
      expect(await list({ minDuration: 0 })).to.deep.equal(['long', 'short', 'running']);
      expect(await list({ minDuration: 30 })).to.deep.equal(['long', 'running']);
      expect(await list({ maxDuration: 30 })).to.deep.equal(['short', 'running']);
    });
    it('includes both bounds to the millisecond', async () => {
      expect(await list({ minDuration: 10, maxDuration: 10 })).to.deep.equal(['short']);
      expect(await list({ minDuration: 60.5 })).to.deep.equal(['long']);
      expect(await list({ minDuration: 60.501 })).to.deep.equal([]);
    });
    it('lets a running job grow into a range as time passes', async () => {
      expect(await list({ minDuration: 40 })).to.deep.equal(['long']);
      clock.now += 15_000;
      expect(await list({ minDuration: 40 })).to.deep.equal(['long', 'running']);
    });
    it('combines with other filters', async () => {
      expect(await list({ minDuration: 20, statuses: ['failed'] })).to.deep.equal(['long']);
    });
  });

  describe('transitions', () => {
    beforeEach(() => store.create(job('j')));

    it('records the agent a job was handed to, and forgets it when the job is queued again', async () => {
      expect(await store.assign('j', 'w1/r')).to.include({ agent: 'w1/r', status: 'accepted', updated: stamp() });
      expect(await store.get('j')).to.include({ agent: 'w1/r' });
      expect((await store.assign('j', null))?.agent).to.equal(null);
      await store.finish('j', 0, { status: 'dismissed', dismissedBy: 'admin' });
      expect(await store.assign('j', 'w1/r')).to.equal(undefined);
    });

    it('marks a job running once, writes nothing for a repeat, and keeps the first start time', async () => {
      const running = await store.markRunning('j', 'w1/r', at(50));
      expect(running).to.deep.equal(job('j', { status: 'running', agent: 'w1/r', started: at(50), updated: stamp() }));
      // A repeated report from the same agent (e.g. its `jobs` list after a reconnect) writes nothing.
      expect(await store.markRunning('j', 'w1/r', at(60))).to.equal(undefined);
      expect(await store.get('j')).to.deep.equal(running);
      expect(await store.markRunning('j', 'w1/other', at(60))).to.deep.include({ agent: 'w1/other', started: at(50) });
      await store.finish('j', 0, { status: 'dismissed', dismissedBy: 'admin' });
      expect(await store.markRunning('j', 'w1/r', at(70))).to.equal(undefined);
      expect((await store.get('j'))?.status).to.equal('dismissed');
    });

    it('clears the note of a job whose agent is back, even from the same agent', async () => {
      await store.markRunning('j', 'w1/r', at(50));
      expect(await store.note('j', 'agent lost; waiting for it')).to.include({ message: 'agent lost; waiting for it' });
      expect(await store.markRunning('j', 'w1/r', at(60), true)).to.include({ message: null, started: at(50) });
      await store.finish('j', 0, { status: 'dismissed', dismissedBy: null });
      expect(await store.note('j', 'too late')).to.equal(undefined);
    });

    it('applies progress once per sequence number and never after the end', async () => {
      expect(await store.recordProgress('j', 1, 10, 'reading')).to.include({ progress: 10, lastSeq: 1 });
      expect(await store.recordProgress('j', 1, 20, 'repeat')).to.equal(undefined);
      expect(await store.recordProgress('j', 0, 30, 'older')).to.equal(undefined);
      expect(await store.get('j')).to.include({ progress: 10, message: 'reading', lastSeq: 1 });
      expect(await store.recordProgress('j', 3, 50, null)).to.include({ progress: 50, message: 'reading', lastSeq: 3 });
      await store.finish('j', 4, { status: 'failed', error: { code: 'exit', message: 'exit code 1', exitCode: 1 } });
      expect(await store.recordProgress('j', 5, 60, 'late')).to.equal(undefined);
      expect(await store.get('j')).to.include({ progress: 50, message: 'reading', lastSeq: 4 });
    });

    it('finishes once by sequence number', async () => {
      await store.recordProgress('j', 2, 40, 'working');
      expect(await store.finish('j', 2, { status: 'successful', results: { r: { value: 1 } } })).to.equal(undefined);
      const finished = await store.finish('j', 3, { status: 'successful', results: { r: { value: 'ok' } } });
      expect(finished).to.deep.equal(
        job('j', { status: 'successful', progress: 100, message: 'working', finished: stamp(), updated: stamp(), results: { r: { value: 'ok' } }, lastSeq: 3 }),
      );
      clock.now += 1000;
      expect(await store.finish('j', 3, { status: 'successful', results: { r: { value: 'again' } } })).to.equal(undefined);
      expect(await store.finish('j', 4, { status: 'failed', error: { code: 'internal', message: 'x' } })).to.equal(undefined);
      expect(await store.finish('j', 0, { status: 'dismissed', dismissedBy: null })).to.equal(undefined);
      expect(await store.get('j')).to.deep.equal(finished);
    });

    it('applies orchestrator outcomes (seq 0) to any unfinished job and keeps lastSeq', async () => {
      await store.recordProgress('j', 5, 40, null);
      const failed = await store.finish('j', 0, { status: 'failed', error: { code: 'agent-lost', message: 'agent w1 gone' } });
      expect(failed).to.include({ status: 'failed', lastSeq: 5, progress: 40, results: null, dismissedBy: null });
      expect(failed?.error).to.deep.equal({ code: 'agent-lost', message: 'agent w1 gone' });
      await store.create(job('k'));
      expect(await store.finish('k', 0, { status: 'dismissed', dismissedBy: 'carol' })).to.include({
        status: 'dismissed',
        dismissedBy: 'carol',
        error: null,
        finished: stamp(),
      });
    });

    it('lets one of two finishes racing for the same job win, and only one', async () => {
      const outcomes = await Promise.all([
        store.finish('j', 0, { status: 'dismissed', dismissedBy: 'carol' }),
        store.finish('j', 1, { status: 'successful', results: {} }),
      ]);
      expect(outcomes.filter((outcome) => outcome !== undefined)).to.have.length(1);
    });

    it('removes a job', async () => {
      expect(await store.remove('j')).to.equal(true);
      expect(await store.remove('j')).to.equal(false);
      expect(await store.get('j')).to.equal(undefined);
    });
  });

  it('lists unfinished jobs oldest first', async () => {
    await createAll([
      job('done', { status: 'successful', created: at(0) }),
      job('run', { status: 'running', created: at(3) }),
      job('wait2', { created: at(2) }),
      job('wait1', { created: at(2) }),
      job('gone', { status: 'dismissed', created: at(4) }),
    ]);
    expect(ids(await store.unfinished())).to.deep.equal(['wait1', 'wait2', 'run']);
  });

  it('keeps jobs when the database is opened again', async () => {
    await store.create(job('kept', { inputs: { a: 1 } }));
    const reopened = await subject().reopen();
    expect(await reopened.get('kept')).to.deep.equal(job('kept', { inputs: { a: 1 } }));
  });
});
