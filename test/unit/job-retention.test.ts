import { expect } from 'chai';
import { CallbackStore } from '../../src/store/callback-store.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { JobRetention } from '../../src/store/job-retention.js';
import { JobStore } from '../../src/store/job-store.js';
import { UploadTokens } from '../../src/store/upload-tokens.js';
import { at, jobRecord, T0 } from '../helpers/job-records.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const HOUR_MS = 3600_000;
const finishedAt = (id: string, seconds: number, fields: Partial<JobRecord> = {}) =>
  jobRecord(id, { status: 'successful', started: at(seconds - 1), finished: at(seconds), updated: at(seconds), results: {}, ...fields });

describe('JobRetention: which finished jobs go, and what goes with them', () => {
  let temp: TempDatabase;
  let jobs: JobStore;
  let retention: JobRetention;
  const now = new Date(T0 + 10 * HOUR_MS);
  const ids = (records: JobRecord[]) => records.map((job) => job.id).sort();
  const left = () => (temp.db.prepare('SELECT id FROM jobs ORDER BY id').all() as { id: string }[]).map((row) => row.id);

  beforeEach(async () => {
    temp = await openTempDatabase();
    jobs = new JobStore(temp.db);
    retention = new JobRetention(temp.db);
  });
  afterEach(() => temp.dispose());

  it('removes finished jobs older than the keep time, never running or waiting ones', () => {
    jobs.create(finishedAt('old-ok', 0));
    jobs.create(finishedAt('old-failed', 60, { status: 'failed', results: null, error: { code: 'exit', message: 'exit code 1' } }));
    jobs.create(finishedAt('old-dismissed', 120, { status: 'dismissed', results: null, dismissedBy: 'root' }));
    jobs.create(finishedAt('recent', 9.5 * 3600));
    jobs.create(jobRecord('waiting', { created: at(0) }));
    jobs.create(jobRecord('running', { status: 'running', agent: 'worker@example.org/a', started: at(1), created: at(0) }));

    const removed = retention.expire(HOUR_MS, now, 100);

    expect(ids(removed)).to.deep.equal(['old-dismissed', 'old-failed', 'old-ok']);
    expect(removed.find((job) => job.id === 'old-failed')?.error).to.deep.equal({ code: 'exit', message: 'exit code 1' });
    expect(left()).to.deep.equal(['recent', 'running', 'waiting']);
  });

  it('removes at most a batch at a time, oldest first', () => {
    for (let i = 0; i < 5; i += 1) jobs.create(finishedAt(`j${i}`, 10 - i));
    expect(ids(retention.expire(HOUR_MS, now, 2))).to.deep.equal(['j3', 'j4']);
    expect(ids(retention.expire(HOUR_MS, now, 2))).to.deep.equal(['j1', 'j2']);
    expect(ids(retention.expire(HOUR_MS, now, 2))).to.deep.equal(['j0']);
    expect(retention.expire(HOUR_MS, now, 2)).to.deep.equal([]);
  });

  it("keeps a process's jobs for its own time, shorter or longer than the server's", () => {
    retention.setProcessKeep('short', 60);
    retention.setProcessKeep('long', 100 * 3600);
    jobs.create(finishedAt('short-old', 10 * 3600 - 120, { processId: 'short' }));
    jobs.create(finishedAt('short-new', 10 * 3600 - 30, { processId: 'short' }));
    jobs.create(finishedAt('long-old', 0, { processId: 'long' }));
    jobs.create(finishedAt('default-old', 0));

    expect(ids(retention.expire(HOUR_MS, now, 100))).to.deep.equal(['default-old', 'short-old']);
    expect(left()).to.deep.equal(['long-old', 'short-new']);
    expect(retention.processKeeps()).to.deep.equal(new Map([['short', 60], ['long', 360000]]));
  });

  it('gives a job the keep time its process had when it was created', () => {
    retention.setProcessKeep('long', 100 * 3600);
    jobs.create(finishedAt('long-before', 0, { processId: 'long' }));
    retention.setProcessKeep('long', undefined);
    jobs.create(finishedAt('long-after', 0, { processId: 'long' }));

    expect(ids(retention.expire(HOUR_MS, now, 100))).to.deep.equal(['long-after']);
    expect(left()).to.deep.equal(['long-before']);
    expect(ids(retention.expire(HOUR_MS, new Date(T0 + 101 * HOUR_MS), 100))).to.deep.equal(['long-before']);
  });

  it("takes the job's upload token and callback deliveries still owed with it", () => {
    jobs.create(finishedAt('gone', 0));
    jobs.create(finishedAt('kept', 9.9 * 3600));
    const callbacks = new CallbackStore(temp.db);
    callbacks.add('gone', 'success', 'http://127.0.0.1:9/hook', '{}', T0);
    callbacks.add('kept', 'success', 'http://127.0.0.1:9/hook', '{}', T0);
    const tokens = new UploadTokens(temp.db);
    const token = tokens.issue('gone');

    retention.expire(HOUR_MS, now, 100);

    expect(callbacks.due(Number.MAX_SAFE_INTEGER, 10).map((delivery) => delivery.jobId)).to.deep.equal(['kept']);
    expect(tokens.matches('gone', token)).to.equal(false);
  });
});
