import { expect } from 'chai';
import type { JobRecord } from '../../src/store/job-record.js';
import type { JobStoreApi } from '../../src/store/job-store-api.js';
import { at, jobRecord, T0 } from '../helpers/job-records.js';
import { newUploadToken } from '../../src/store/upload-tokens.js';
import { tokenDigest } from '../../src/store/token-digest.js';
import { clock, forEachStore } from './stores-under-test.js';

const HOUR_MS = 3600_000;
const finishedAt = (id: string, seconds: number, fields: Partial<JobRecord> = {}) =>
  jobRecord(id, { status: 'successful', started: at(seconds - 1), finished: at(seconds), updated: at(seconds), results: {}, ...fields });
const ids = (records: JobRecord[]) => records.map((job) => job.id).sort();

forEachStore('Job store contract: retention and transactions', (subject) => {
  let store: JobStoreApi;
  const now = new Date(T0 + 10 * HOUR_MS);
  const left = async () => ids((await store.list({ limit: 1000, offset: 0 })).jobs);
  const createAll = async (records: JobRecord[]) => {
    for (const record of records) await store.create(record);
  };
  beforeEach(() => {
    clock.now = now.getTime();
    store = subject().jobs;
  });

  it('removes finished jobs older than the keep time, never running or waiting ones', async () => {
    await createAll([
      finishedAt('old-ok', 0),
      finishedAt('old-failed', 60, { status: 'failed', results: null, error: { code: 'exit', message: 'exit code 1' } }),
      finishedAt('old-dismissed', 120, { status: 'dismissed', results: null, dismissedBy: 'root' }),
      finishedAt('recent', 9.5 * 3600),
      jobRecord('waiting', { created: at(0) }),
      jobRecord('running', { status: 'running', agent: 'worker@example.org/a', started: at(1), created: at(0) }),
    ]);

    const removed = await store.expire(HOUR_MS, now, 100);

    expect(ids(removed)).to.deep.equal(['old-dismissed', 'old-failed', 'old-ok']);
    expect(removed.find((job) => job.id === 'old-failed')?.error).to.deep.equal({ code: 'exit', message: 'exit code 1' });
    expect(await left()).to.deep.equal(['recent', 'running', 'waiting']);
  });

  it('removes at most a batch at a time, oldest first', async () => {
    for (let i = 0; i < 5; i += 1) await store.create(finishedAt(`j${i}`, 10 - i));
    expect(ids(await store.expire(HOUR_MS, now, 2))).to.deep.equal(['j3', 'j4']);
    expect(ids(await store.expire(HOUR_MS, now, 2))).to.deep.equal(['j1', 'j2']);
    expect(ids(await store.expire(HOUR_MS, now, 2))).to.deep.equal(['j0']);
    expect(await store.expire(HOUR_MS, now, 2)).to.deep.equal([]);
  });

  it("keeps a process's jobs for its own time, shorter or longer than the server's", async () => {
    await subject().setProcessKeep('short', 60);
    await subject().setProcessKeep('long', 100 * 3600);
    await createAll([
      finishedAt('short-old', 10 * 3600 - 120, { processId: 'short' }),
      finishedAt('short-new', 10 * 3600 - 30, { processId: 'short' }),
      finishedAt('long-old', 0, { processId: 'long' }),
      finishedAt('default-old', 0),
    ]);

    expect(ids(await store.expire(HOUR_MS, now, 100))).to.deep.equal(['default-old', 'short-old']);
    expect(await left()).to.deep.equal(['long-old', 'short-new']);
    expect(subject().processKeeps()).to.deep.equal(new Map([['short', 60], ['long', 360000]]));
  });

  it('gives a job the keep time its process had when it was created, also when it finishes later', async () => {
    await subject().setProcessKeep('long', 100 * 3600);
    await store.create(finishedAt('long-before', 0, { processId: 'long' }));
    await store.create(jobRecord('long-running', { processId: 'long', created: at(0) }));
    await subject().setProcessKeep('long', undefined);
    await store.create(finishedAt('long-after', 0, { processId: 'long' }));
    clock.now = T0;
    await store.finish('long-running', 0, { status: 'dismissed', dismissedBy: null });

    expect(ids(await store.expire(HOUR_MS, now, 100))).to.deep.equal(['long-after']);
    expect(await left()).to.deep.equal(['long-before', 'long-running']);
    expect(ids(await store.expire(HOUR_MS, new Date(T0 + 101 * HOUR_MS), 100))).to.deep.equal(['long-before', 'long-running']);
  });

  it("takes the job's upload token with it", async () => {
    await store.create(jobRecord('gone', { created: at(-1) }));
    const token = newUploadToken();
    await store.assign('gone', 'w1/r', tokenDigest(token));
    clock.now = T0;
    await store.finish('gone', 0, { status: 'dismissed', dismissedBy: null });
    expect(await subject().uploadTokens.matches('gone', token)).to.equal(true);
    expect(await subject().uploadTokens.matches('gone', `${token}x`)).to.equal(false);

    await store.expire(HOUR_MS, now, 100);

    expect(await subject().uploadTokens.matches('gone', token)).to.equal(false);
  });

  it('keeps every write of a transaction, or none when its body fails', async () => {
    await store.create(jobRecord('a'));
    const kept = await store.transaction(async (inside) => {
      await inside.create(jobRecord('b'));
      return inside.assign('a', 'w1/r');
    });
    expect(kept?.agent).to.equal('w1/r');

    const failure = await store
      .transaction(async (inside) => {
        await inside.create(jobRecord('c'));
        await inside.finish('a', 0, { status: 'dismissed', dismissedBy: null });
        throw new Error('changed its mind');
      })
      .catch((err: Error) => err.message);

    expect(failure).to.equal('changed its mind');
    expect(await left()).to.deep.equal(['a', 'b']);
    expect(await store.get('a')).to.include({ status: 'accepted', agent: 'w1/r' });
  });

  it('refuses a transaction inside a transaction', async () => {
    const nested = await store.transaction((inside) => inside.transaction(async () => 1)).catch((err: Error) => err.message);
    expect(nested).to.equal('transactions do not nest');
  });
});
