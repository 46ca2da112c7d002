import { chmod, mkdir, stat } from 'node:fs/promises';

/**
 * Modes of what the agent makes in its work directory: inputs, outputs and pending results
 * belong to the agent's user alone (docs/decisions.md, Security).
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** A work directory the agent cannot use; the agent stops with this message. */
export class WorkDirError extends Error {}

/**
 * Creates the work directory (and missing parents) as 0700, makes an existing one 0700, and
 * refuses one that belongs to another user: whoever owns it could read or replace what runs there.
 */
export async function preparePrivateWorkDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new WorkDirError(`work dir ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new WorkDirError(`work dir ${dir} belongs to uid ${info.uid}, not to this user (uid ${uid}); choose another --work-dir`);
  }
  if ((info.mode & 0o777) !== PRIVATE_DIR) await chmod(dir, PRIVATE_DIR);
}
