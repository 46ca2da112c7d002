import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');

describe('outpost --help', () => {
  it('prints every command and how flags map to environment variables, and exits 0', async () => {
    for (const args of [['--help'], ['help'], ['dev', '--help'], ['agent', 'add', '-h']]) {
      const { stdout } = await run(process.execPath, [outpost, ...args]);
      expect(stdout).to.match(/^usage: outpost dev /);
      for (const command of ['outpost serve', 'outpost agent add', 'outpost agent remove', 'outpost agent list', 'outpost token create']) {
        expect(stdout).to.include(command);
      }
      expect(stdout).to.include('OUTPOST_HTTP_PORT for --http-port');
    }
  });

  it('answers a mistake with one line and where the usage is, exit code 2', async () => {
    const missingData = await mkdtemp(path.join(os.tmpdir(), 'outpost-no-data-'));
    try {
      for (const [args, line] of [
        [['launch'], "outpost: unknown command 'launch'"],
        [['token', 'create', '--usr', 'bob'], "outpost: Unknown option '--usr'"],
        [['backup', 'copy.db', '--data-dir', missingData], `outpost: no database at ${missingData}/outpost.db`],
      ] as const) {
        const failure = await run(process.execPath, [outpost, ...args]).catch((err: { code: number; stderr: string }) => err);
        expect(failure).to.include({ code: 2, stderr: `${line}\nRun 'outpost --help' for every command and flag.\n` });
      }
    } finally {
      await rm(missingData, { recursive: true, force: true });
    }
  });
});

describe('outpost-agent --help', () => {
  it('prints the usage with every flag and its environment variable, and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost-agent.js'), '--help'], { env: { PATH: process.env['PATH'] } });
    expect(stderr).to.equal('');
    expect(stdout).to.match(/^usage: outpost-agent --server /);
    expect(stdout).to.match(/--kill-grace\s+OUTPOST_AGENT_KILL_GRACE/);
  });
});
