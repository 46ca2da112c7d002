import { expect } from 'chai';
import { BatchedWrites } from '../../src/store/batched-writes.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { jobRecord } from '../helpers/job-records.js';
import type { Database } from '../../src/store/database.js';
import { openTempDatabase, tracedConnection, type TempDatabase } from '../helpers/temp-database.js';

describe('BatchedWrites on the SQLite job store', function () {
  let temp: TempDatabase;
  let connection: Database;
  let sqlite: SqliteJobStore;
  let store: BatchedWrites;
  /** Every SQL statement run on the connection, as better-sqlite3 traces it. */
  let statements: string[] = [];
  const commits = () => statements.filter((sql) => sql === 'COMMIT').length;

  beforeEach(async function () {
    temp = await openTempDatabase();
    temp.db.close();
    connection = tracedConnection(temp.file, (sql) => void statements.push(sql));
    sqlite = new SqliteJobStore(connection);
    for (const id of ['j1', 'j2', 'j3']) sqlite.rows.create(jobRecord(id));
    store = new BatchedWrites(sqlite);
    statements = [];
  });
  afterEach(async function () {
    connection.close();
    await temp.dispose();
  });

  it('writes the changes of many jobs made in one turn in one transaction, each answered with its own job', async function () {
    const [assigned, running, dismissed] = await Promise.all([
      store.assign('j1', 'a@example.org/x'),
      store.markRunning('j2', 'b@example.org/x', '2024-05-01T12:00:01.000Z'),
      store.finish('j3', 0, { status: 'dismissed', dismissedBy: null }),
    ]);
    expect(statements.filter((sql) => /^(BEGIN|COMMIT)/.test(sql))).to.deep.equal(['BEGIN IMMEDIATE', 'COMMIT']);
    expect([assigned?.agent, running?.status, dismissed?.status]).to.deep.equal(['a@example.org/x', 'running', 'dismissed']);
    expect(sqlite.rows.get('j2')?.agent).to.equal('b@example.org/x');
  });

  it('sends a change alone in its turn straight to the store, without a transaction', async function () {
    await store.assign('j1', 'a@example.org/x');
    await store.assign('j2', 'a@example.org/x');
    expect(commits()).to.equal(0);
    expect(sqlite.rows.get('j2')?.agent).to.equal('a@example.org/x');
  });

  it('fails a bad write alone: the other writes of its turn are kept', async function () {
    const outcomes = await Promise.allSettled([
      store.assign('j1', 'a@example.org/x'),
      store.note('j2', { not: 'a string' } as unknown as string),
      store.recordProgress('j3', 1, 50, 'half'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).to.match(/can only bind/);
    expect(sqlite.rows.get('j1')?.agent).to.equal('a@example.org/x');
    expect(sqlite.rows.get('j2')?.message).to.equal(null);
    expect(sqlite.rows.get('j3')?.progress).to.equal(50);
  });

  it('tells when every write asked for has been made, so the store can close', async function () {
    const running = store.markRunning('j1', 'a@example.org/x', '2024-05-01T12:00:01.000Z');
    const progress = store.recordProgress('j2', 1, 10, null);
    await store.settled();
    connection.close();
    expect((await running)?.status).to.equal('running');
    expect((await progress)?.progress).to.equal(10);
  });
});
