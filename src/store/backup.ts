import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, rename, rm, stat } from 'node:fs/promises';
import BetterSqlite3 from 'better-sqlite3';

/** Why a backup was not made; the target is left as it was. */
export class BackupError extends Error {}

export interface BackupResult {
  bytes: number;
  /** Jobs in the copy, as a sign of what it holds. */
  jobs: number;
}

/** Every page in one step: a WAL reader's snapshot, so the copy is of one moment and never restarts. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the database `source` to `target` with SQLite's online backup, while a server may be
 * writing to it (docs/decisions.md, Retention and audit). The copy is written beside the target
 * under another name, checked (`PRAGMA integrity_check`), and only then given the target's name;
 * an existing target is replaced only when `overwrite` says so.
 */
export async function backupDatabase(source: string, target: string, overwrite: boolean): Promise<BackupResult> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  if (!overwrite && existsSync(target)) throw new BackupError(`${target} exists; give --force to replace it`);
  const partial = `${target}.${randomBytes(6).toString('hex')}.partial`;
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(partial, { progress: () => ALL_PAGES }).catch((err: Error) => {
      throw new BackupError(`cannot write ${target}: ${err.message}`);
    });
    const jobs = checkedCopy(partial);
    // link() refuses to replace a file, so a target that appeared meanwhile is not overwritten either.
    if (overwrite) await rename(partial, target);
    else await link(partial, target).catch((err: NodeJS.ErrnoException) => {
      throw new BackupError(err.code === 'EEXIST' ? `${target} exists; give --force to replace it` : `cannot write ${target}: ${err.message}`);
    });
    return { bytes: (await stat(target)).size, jobs };
  } finally {
    db.close();
    await rm(partial, { force: true });
  }
}

/** The number of jobs in a copy that SQLite finds whole; a damaged copy is refused. */
function checkedCopy(file: string): number {
  const copy = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`the copy failed its integrity check: ${String(integrity)}`);
    return (copy.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  } finally {
    copy.close();
  }
}
