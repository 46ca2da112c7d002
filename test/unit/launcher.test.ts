import { expect } from 'chai';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Launcher } from '../../agent/runner/launcher.js';
import { fixture } from '../helpers/paths.js';
import { readPidFile, waitUntilGone } from '../helpers/process-tree.js';
import { fixtureService, runFixture, TempDirs } from '../helpers/runner-fixtures.js';

describe('the launcher (posix_spawn helper of the agent)', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.removeAll());

  it('kills every process group it started when its stdin closes, so no run outlives the agent', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    const workDirs = [await dirs.make(), await dirs.make()];
    for (const cwd of workDirs) {
      const started = await launcher.start({ executable: fixture('bin', 'sleep-tree.sh'), args: [], cwd, env: { PATH: '/usr/bin:/bin' } });
      expect(started.ok).to.equal(true);
    }
    const pids = (await Promise.all(workDirs.map((dir) => Promise.all(['parent.pid', 'child.pid'].map((file) => readPidFile(path.join(dir, file))))))).flat();
    await launcher.close();
    for (const pid of pids) expect(await waitUntilGone(pid, 2000), `pid ${pid} still running`).to.equal(true);
  });

  it('ends a run whose kill came while the launcher was starting it', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    try {
      const abort = new AbortController();
      const workDir = await dirs.make();
      const start: typeof launcher.start = async (spec) => {
        const started = await launcher.start(spec);
        abort.abort();
        return started;
      };
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh', { timeoutSeconds: 5 }), workDir, { signal: abort.signal, start, killGraceMs: 100 });
      expect(outcome).to.deep.equal({ status: 'killed', signal: 'SIGTERM' });
    } finally {
      await launcher.close();
    }
  });

  it('reports a missing program as Node does (ENOENT)', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    try {
      const started = await launcher.start({ executable: '/nonexistent/tool', args: [], cwd: await dirs.make(), env: {} });
      expect(started.ok ? 'started' : started.error.code).to.equal('ENOENT');
    } finally {
      await launcher.close();
    }
  });

  it('is not chosen when it is missing or does not run on this machine', async () => {
    const dir = await dirs.make();
    const foreign = path.join(dir, 'outpost-launcher');
    // Runs, but never says hello, as a file that is not a working launcher.
    await writeFile(foreign, '#!/bin/sh\nexit 0\n');
    await chmod(foreign, 0o755);
    expect(await Launcher.start(path.join(dir, 'missing'))).to.equal(undefined);
    expect(await Launcher.start(foreign)).to.equal(undefined);
  });
});
