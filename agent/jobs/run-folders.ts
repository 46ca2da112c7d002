import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_DIR } from './work-dir.js';

/** More spare folders than runs at once are never needed; a burst beyond this is simply removed. */
const MAX_SPARE = 256;

/**
 * Each run's own folder, `jobs/JOB` in the work directory (docs/decisions.md, Performance).
 * Making and removing a folder per run cost the agent's loop up to a millisecond a job on a busy
 * disk (ext4 allocates and frees an inode and a block each time); a run that leaves its folder
 * empty hands it back instead, and the next run gets it by a rename. A folder with anything left
 * in it is removed, never reused, so no run sees another run's files.
 */
export class RunFolders {
  readonly #spare: string[] = [];
  #made = 0;

  private constructor(
    readonly jobsDir: string,
    readonly spareDir: string,
  ) {}

  /** Empties the folders an earlier agent on this work directory left. */
  static async open(workDir: string): Promise<RunFolders> {
    const folders = new RunFolders(path.join(workDir, 'jobs'), path.join(workDir, 'spare-run-folders'));
    for (const dir of [folders.jobsDir, folders.spareDir]) {
      await rm(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
    }
    return folders;
  }

  /** The job's folder, where its inputs go and its program runs: empty, and made by the run if missing. */
  take(job: string): string {
    const dir = path.join(this.jobsDir, job);
    const spare = this.#spare.pop();
    if (spare !== undefined) {
      try {
        renameSync(spare, dir);
      } catch {
        // Gone from under us (or the job's folder exists): the run makes its own.
      }
    }
    return dir;
  }

  /** After the run: an empty folder is kept for the next run, anything else removed. */
  async give(dir: string): Promise<void> {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // never made: the run ended before its program started
    }
    if (entries.length === 0 && this.#keep(dir)) return;
    await rm(dir, { recursive: true, force: true });
  }

  #keep(dir: string): boolean {
    if (this.#spare.length >= MAX_SPARE) return false;
    const spare = path.join(this.spareDir, String(++this.#made));
    try {
      renameSync(dir, spare);
    } catch {
      return false;
    }
    this.#spare.push(spare);
    return true;
  }
}
