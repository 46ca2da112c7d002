import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { PRIVATE_FILE } from './work-dir.js';

const journalFile = (workDir: string) => path.join(workDir, 'runs.journal');

/** Past this size, the journal is emptied the next time no run is in flight. */
const COMPACT_AT_BYTES = 1024 * 1024;
/** Every program learns its job id from this variable (agent/runner/child-env.ts); it is how its processes are found again. */
const JOB_VARIABLE = 'OUTPOST_JOB_ID=';

/**
 * One append-only journal per agent of the runs it starts (docs/decisions.md, Faults and recovery):
 * `start JOB` is written before the program is spawned and `end JOB` once its process group is
 * gone. Process groups outlive a crashed agent; the next start reads the journal and kills every
 * process of a run that has no `end`, whether or not its pid was ever known, then empties it.
 * Each line is one write(2) to a file opened for appending: it is in the kernel before the spawn,
 * so a SIGKILLed agent cannot lose it, and it costs no fsync (a machine that goes down takes its
 * runs with it).
 */
export class RunJournal {
  readonly #fd: number;
  readonly #inFlight = new Set<string>();
  #bytes = 0;
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Kills the runs an earlier agent on this work directory left behind, and starts an empty journal. */
  static async open(workDir: string, logger: Logger): Promise<RunJournal> {
    const file = journalFile(workDir);
    const unfinished = unfinishedRuns(await readFile(file, 'utf8').catch(() => ''));
    if (unfinished.size > 0) await killRuns(unfinished, logger);
    await writeFile(file, '', { mode: PRIVATE_FILE });
    return new RunJournal(openSync(file, 'a', PRIVATE_FILE));
  }

  /** Call before the program is spawned. */
  started(job: string): void {
    this.#inFlight.add(job);
    this.#append(`start ${job}\n`);
  }

  /** Call once the run's process group is gone. */
  ended(job: string): void {
    this.#inFlight.delete(job);
    this.#append(`end ${job}\n`);
    if (this.#inFlight.size === 0 && this.#bytes > COMPACT_AT_BYTES) {
      ftruncateSync(this.#fd, 0);
      this.#bytes = 0;
    }
  }

  /** Once only: a second close could close whatever file has been given the same descriptor since. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #append(line: string): void {
    this.#bytes += writeSync(this.#fd, line);
  }
}

/** Jobs started and never ended; a torn last line is ignored. */
function unfinishedRuns(text: string): Set<string> {
  const runs = new Set<string>();
  for (const line of text.split('\n')) {
    const [word, job] = line.split(' ');
    if (word === 'start' && job) runs.add(job);
    if (word === 'end' && job) runs.delete(job);
  }
  return runs;
}

/**
 * SIGKILLs the process group of every process whose environment carries one of these job ids,
 * until none is left: the run's own group, and the groups of descendants that started their own.
 * A descendant that both leaves the group and clears its environment escapes (only cgroups are airtight).
 */
async function killRuns(jobs: Set<string>, logger: Logger): Promise<void> {
  const ownGroup = (await processOf(process.pid))?.pgid;
  for (let pass = 0; pass < 3; pass++) {
    const found = await processesOf(jobs);
    if (found.length === 0) return;
    for (const { pid, pgid, job } of found) {
      // Never the agent's own group, nor init's.
      kill(pgid > 1 && pgid !== ownGroup ? -pgid : pid);
      logger.warn({ job, pid }, 'killed a run left behind by an earlier agent');
    }
  }
}

/** The live processes (zombies have no environment left) of these jobs, other than this agent. */
async function processesOf(jobs: Set<string>): Promise<RunProcess[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const processes = await Promise.all(pids.filter((pid) => pid !== process.pid).map(processOf));
  return processes.filter((run): run is RunProcess => run?.job !== undefined && jobs.has(run.job));
}

interface RunProcess {
  pid: number;
  pgid: number;
  job: string | undefined;
}

/** A process's group and the job id in its environment; undefined once it is gone or not ours to read. */
async function processOf(pid: number): Promise<RunProcess | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses: state ppid pgrp …
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    const variable = environ.split('\0').find((entry) => entry.startsWith(JOB_VARIABLE));
    return { pid, pgid, job: variable?.slice(JOB_VARIABLE.length) };
  } catch {
    return undefined;
  }
}

function kill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
