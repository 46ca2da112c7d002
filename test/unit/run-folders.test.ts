import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunFolders } from '../../agent/jobs/run-folders.js';
import { TempDirs } from '../helpers/runner-fixtures.js';

describe('RunFolders: each run in its own folder, an empty one reused', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.removeAll());

  it('hands an empty folder back to the next run, under that run\'s job id', async () => {
    const workDir = await dirs.make();
    const folders = await RunFolders.open(workDir);
    const first = folders.take('job-1');
    expect(first).to.equal(path.join(workDir, 'jobs', 'job-1'));
    mkdirSync(first, { mode: 0o700 });
    const inode = statSync(first).ino;
    await folders.give(first);
    expect(readdirSync(path.join(workDir, 'jobs'))).to.deep.equal([]);

    const second = folders.take('job-2');
    expect(second).to.equal(path.join(workDir, 'jobs', 'job-2'));
    expect(statSync(second).ino, 'the same folder, renamed').to.equal(inode);
    expect(statSync(second).mode & 0o777).to.equal(0o700);
  });

  it('removes a folder a run left files in, and never hands it out again', async () => {
    const workDir = await dirs.make();
    const folders = await RunFolders.open(workDir);
    const used = folders.take('job-1');
    mkdirSync(path.join(used, 'nested'), { recursive: true });
    writeFileSync(path.join(used, 'nested', 'secret.txt'), 'of job-1');
    await folders.give(used);
    expect(existsSync(used)).to.equal(false);

    const next = folders.take('job-2');
    expect(existsSync(next), 'no spare folder: the run makes a new one').to.equal(false);
  });

  it('lets a run that never made its folder end without error', async () => {
    const workDir = await dirs.make();
    const folders = await RunFolders.open(workDir);
    await folders.give(folders.take('job-1'));
    expect(readdirSync(path.join(workDir, 'jobs'))).to.deep.equal([]);
  });

  it('starts from empty folders, whatever an earlier agent left', async () => {
    const workDir = await dirs.make();
    mkdirSync(path.join(workDir, 'jobs', 'old-job'), { recursive: true });
    writeFileSync(path.join(workDir, 'jobs', 'old-job', 'left.txt'), 'x');
    mkdirSync(path.join(workDir, 'spare-run-folders', '7'), { recursive: true });
    const folders = await RunFolders.open(workDir);
    expect(readdirSync(folders.jobsDir)).to.deep.equal([]);
    expect(readdirSync(folders.spareDir)).to.deep.equal([]);
    expect(statSync(folders.jobsDir).mode & 0o777).to.equal(0o700);
  });
});
