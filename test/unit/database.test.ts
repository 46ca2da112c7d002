import { expect } from 'chai';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, type Database } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

describe('openDatabase', () => {
  let temp: TempDatabase;
  let file: string;
  const opened: Database[] = [];
  const open = (migrations?: readonly string[]) => {
    const db = openDatabase(file, migrations);
    opened.push(db);
    return db;
  };
  const version = (db: Database) => db.pragma('user_version', { simple: true });
  const count = (db: Database) => (db.prepare('SELECT count(*) AS n FROM log').get() as { n: number }).n;

  beforeEach(async () => {
    temp = await openTempDatabase();
    file = path.join(temp.dir, 'other.db');
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) if (db.open) db.close();
    await temp.dispose();
  });

  it('sets the connection pragmas and applies all migrations', () => {
    const db = temp.db;
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    expect(db.pragma('foreign_keys', { simple: true })).to.equal(1);
    expect(db.pragma('busy_timeout', { simple: true })).to.equal(5000);
    expect(db.pragma('synchronous', { simple: true })).to.equal(1);
    expect(version(db)).to.equal(MIGRATIONS.length);
  });

  it('does not run applied migrations again on re-open, and runs new ones once', () => {
    const first = ['CREATE TABLE log (step INTEGER) STRICT', 'INSERT INTO log VALUES (2)'];
    open(first).close();
    const db = open(first);
    expect(version(db)).to.equal(2);
    expect(count(db)).to.equal(1);
    db.close();
    const upgraded = open([...first, 'INSERT INTO log VALUES (3)']);
    expect(version(upgraded)).to.equal(3);
    expect(upgraded.prepare('SELECT step FROM log ORDER BY step').pluck().all()).to.deep.equal([2, 3]);
  });

  it('rolls back a failing migration as a whole and keeps the steps before it', () => {
    const migrations = ['CREATE TABLE log (step INTEGER) STRICT', 'INSERT INTO log VALUES (2); INSERT INTO missing VALUES (1)'];
    expect(() => open(migrations)).to.throw('no such table: missing');
    const db = open(migrations.slice(0, 1));
    expect(version(db)).to.equal(1);
    expect(count(db)).to.equal(0);
  });

  it('refuses a database written by a newer version', () => {
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => open()).to.throw(
      `database ${file} has schema version ${MIGRATIONS.length + 1} but this version of Outpost knows only up to ` +
        `${MIGRATIONS.length}; run a newer Outpost or use another data directory`,
    );
  });
});
