import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Database = BetterSqlite3.Database;

/** How long a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the SQLite file and brings its schema up to date.
 * `migrations` is only replaced by tests of the migration mechanism itself.
 */
export function openDatabase(file: string, migrations: readonly string[] = MIGRATIONS): Database {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // NORMAL is durable in WAL mode except for the last transactions on power loss, never corrupt.
    db.pragma('synchronous = NORMAL');
    migrate(db, file, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Database, file: string, migrations: readonly string[]): void {
  const current = userVersion(db);
  if (current > migrations.length) {
    throw new Error(
      `database ${file} has schema version ${current} but this version of Outpost knows only up to ${migrations.length}; ` +
        'run a newer Outpost or use another data directory',
    );
  }
  // IMMEDIATE takes the write lock before reading the version, so two processes opening the
  // same new file cannot both apply the same step.
  const step = db.transaction((target: number, sql: string) => {
    if (userVersion(db) !== target - 1) return;
    db.exec(sql);
    db.pragma(`user_version = ${target}`);
  });
  migrations.forEach((sql, index) => {
    if (index >= current) step.immediate(index + 1, sql);
  });
}

/**
 * The database of a data directory, for a command run beside the server. A directory without one
 * is made, and said so on stderr: a command run from another folder, or with a mistyped
 * `--data-dir`, would otherwise hand out a token or record an agent no server sees.
 */
export function openDataDirDatabase(dataDir: string): Database {
  const file = path.join(dataDir, 'outpost.db');
  if (!existsSync(file)) process.stderr.write(`outpost: no database in ${dataDir} yet, so a new one is made; give --data-dir to use the server's\n`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openDatabase(file);
}
