import { expect } from 'chai';
import { CallbackStore } from '../../src/store/callback-store.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { JobRetention } from '../../src/store/job-retention.js';
import { JobStore } from '../../src/store/job-store.js';
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

  beforeEach(async () => {
    temp = await openTempDatabase();
    jobs = new JobStore(temp.db);
    retention = new JobRetention(temp.db);
  });
  afterEach(() => temp.dispose());

  // The rest of retention is in test/contract.
  it("takes the job's callback deliveries still owed with it", async () => {
    jobs.create(finishedAt('gone', 0));
    jobs.create(finishedAt('kept', 9.9 * 3600));
    const callbacks = new CallbackStore(temp.db);
    await callbacks.add('gone', 'success', 'http://127.0.0.1:9/hook', '{}', T0);
    await callbacks.add('kept', 'success', 'http://127.0.0.1:9/hook', '{}', T0);

    retention.expire(HOUR_MS, now, 100);

    expect((await callbacks.due(Number.MAX_SAFE_INTEGER, 10)).map((delivery) => delivery.jobId)).to.deep.equal(['kept']);
  });
});
