import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunJournal } from '../../agent/jobs/run-journal.js';
import { isGone, waitUntilGone } from '../helpers/process-tree.js';
import { testLogger } from '../helpers/logger.js';
import { useTempDir, writeScript } from '../helpers/temp-services.js';

/**
 * A run as an agent leaves it when it is SIGKILLed: a group of its own that outlives it. The
 * program leaves its work directory, and one grandchild starts a session of its own.
 */
async function orphanedRun(dir: string, job: string): Promise<number[]> {
  const pidFile = path.join(dir, `${job}.pids`);
  const script = await writeScript(dir, `${job}.sh`, 'echo $$ > "$1"\ncd /\nsetsid sleep 60 &\necho $! >> "$1"\nsleep 60 &\necho $! >> "$1"\nwait');
  spawn('/bin/sh', [script, pidFile], { detached: true, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', OUTPOST_JOB_ID: job } }).unref();
  for (let tries = 0; tries < 500; tries++) {
    const pids = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    if (pids.length === 3) return pids;
    await sleep(10);
  }
  throw new Error(`${job} did not start`);
}

describe('run journal: runs an earlier agent left behind', () => {
  const dir = useTempDir();
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0)) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
  });

  it('kills every process of a run started and never ended, pid known or not, and only those', async () => {
    const unfinished = await orphanedRun(dir(), 'job-b');
    const finished = await orphanedRun(dir(), 'job-a');
    pids.push(...unfinished, ...finished);
    await writeFile(path.join(dir(), 'runs.journal'), 'start job-a\nstart job-b\nend job-a\nstart job-');

    const journal = await RunJournal.open(dir(), testLogger);
    journal.close();
    for (const pid of unfinished) expect(await waitUntilGone(pid, 2000), `pid ${pid} of job-b`).to.equal(true);
    expect(finished.map(isGone), 'the processes of job-a, whose run ended').to.deep.equal([false, false, false]);
    expect(await readFile(path.join(dir(), 'runs.journal'), 'utf8')).to.equal('');
  });

  it('writes a line before each run and one after it, in a 0600 file', async () => {
    const journal = await RunJournal.open(dir(), testLogger);
    journal.started('job-1');
    journal.started('job-2');
    journal.ended('job-1');
    journal.close();
    const file = path.join(dir(), 'runs.journal');
    expect(await readFile(file, 'utf8')).to.equal('start job-1\nstart job-2\nend job-1\n');
    expect(((await stat(file)).mode & 0o777).toString(8)).to.equal('600');
  });

  it('closes once: a second close leaves alone the journal that took its descriptor since', async () => {
    const first = await RunJournal.open(dir(), testLogger);
    first.close();
    const second = await RunJournal.open(dir(), testLogger);
    first.close();
    second.started('job-1');
    second.close();
    expect(await readFile(path.join(dir(), 'runs.journal'), 'utf8')).to.equal('start job-1\n');
  });

  it('empties itself once it is large and no run is in flight', async () => {
    const journal = await RunJournal.open(dir(), testLogger);
    const file = path.join(dir(), 'runs.journal');
    const job = 'j'.repeat(64);
    journal.started('long-running');
    for (let i = 0; i < 15_000; i++) {
      journal.started(job);
      journal.ended(job);
    }
    expect((await stat(file)).size, 'kept while a run is in flight').to.be.greaterThan(1024 * 1024);
    journal.ended('long-running');
    journal.close();
    expect(await readFile(file, 'utf8')).to.equal('');
  });
});
