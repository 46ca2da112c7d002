import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, type Database } from '../../src/store/database.js';

/** A real SQLite file in its own temporary directory. */
export interface TempDatabase {
  dir: string;
  file: string;
  db: Database;
  /** Closes the database (if still open) and deletes the directory. */
  dispose(): Promise<void>;
}

export async function openTempDatabase(): Promise<TempDatabase> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-'));
  const file = path.join(dir, 'outpost.db');
  const db = openDatabase(file);
  return {
    dir,
    file,
    db,
    async dispose() {
      if (db.open) db.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Another connection to the database file that hands every SQL statement it runs to `record`. */
export function tracedConnection(file: string, record: (sql: string) => void): Database {
  return new BetterSqlite3(file, { verbose: (sql) => record(String(sql)) });
}
