import { expect } from 'chai';
import { JobStore } from '../../src/store/job-store.js';
import { at, jobRecord as job, T0 } from '../helpers/job-records.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

// What every job store does is in test/contract; this is what only the synchronous SQLite rows offer.
describe('JobStore', () => {
  let temp: TempDatabase;
  let store: JobStore;
  const now = T0 + 3600_000;

  beforeEach(async () => {
    temp = await openTempDatabase();
    store = new JobStore(temp.db, () => new Date(now));
    store.create(job('j'));
  });
  afterEach(() => temp.dispose());

  it('updates the given fields and stamps updated unless given', () => {
    const updated = store.update('j', { message: 'queued behind 3', progress: undefined });
    expect(updated).to.deep.equal(job('j', { message: 'queued behind 3', updated: new Date(now).toISOString() }));
    expect(store.get('j')).to.deep.equal(updated);
    expect(store.update('j', { agent: 'w1', updated: at(5) })?.updated).to.equal(at(5));
    expect(store.update('nope', { message: 'x' })).to.equal(undefined);
  });

  it('tells whether a progress event applied', () => {
    expect(store.recordProgress('j', 1, 10, 'reading')).to.equal(true);
    expect(store.recordProgress('j', 1, 20, 'repeat')).to.equal(false);
  });
});
