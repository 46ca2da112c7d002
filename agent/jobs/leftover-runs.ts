import { readdir, readFile, readlink, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { PRIVATE_DIR, PRIVATE_FILE } from './work-dir.js';

/**
 * Each run's process group id is written down outside its work directory (so the program cannot
 * change it). Process groups outlive a crashed agent; the next start of the agent ends them.
 */
const pidsDir = (workDir: string) => path.join(workDir, 'pids');
export const jobDir = (workDir: string, job: string) => path.join(workDir, 'jobs', job);

/** The pids folder exists from `reapLeftoverRuns` on, which every agent start runs first. */
export async function recordRun(workDir: string, job: string, pid: number): Promise<void> {
  await writeFile(path.join(pidsDir(workDir), job), String(pid), { mode: PRIVATE_FILE });
}

export async function forgetRun(workDir: string, job: string): Promise<void> {
  await rm(path.join(pidsDir(workDir), job), { force: true });
}

/** Kills the groups of runs an earlier agent left behind, then removes their work directories. */
export async function reapLeftoverRuns(workDir: string, logger: Logger): Promise<string[]> {
  const jobs = await readdir(pidsDir(workDir)).catch(() => [] as string[]);
  for (const job of jobs) {
    const pid = Number(await readFile(path.join(pidsDir(workDir), job), 'utf8').catch(() => ''));
    // Only a process still working in that job's directory is ours; the pid may have been reused.
    const cwd = Number.isInteger(pid) && pid > 1 ? await readlink(`/proc/${pid}/cwd`).catch(() => '') : '';
    if (cwd === jobDir(workDir, job)) {
      try {
        process.kill(-pid, 'SIGKILL');
        logger.warn({ job, pid }, 'killed a run left behind by an earlier agent');
      } catch {
        // Already gone.
      }
    }
    await forgetRun(workDir, job);
  }
  await rm(path.join(workDir, 'jobs'), { recursive: true, force: true });
  await mkdir(pidsDir(workDir), { recursive: true, mode: PRIVATE_DIR });
  return jobs;
}
