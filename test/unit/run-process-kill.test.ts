import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isGone, readPidFile, waitUntilGone } from '../helpers/process-tree.js';
import { fixtureService, forEachStartPath, runFixture, runnerSandbox } from '../helpers/runner-fixtures.js';

forEachStartPath((startPath) =>
  describe(`runProcess: ending a run (${startPath})`, () => {
    const dirs = runnerSandbox();

    /** Both processes of sleep-tree.sh or ignore-term.sh, once they have started. */
    async function treePids(workDir: string): Promise<number[]> {
      return [await readPidFile(path.join(workDir, 'parent.pid')), await readPidFile(path.join(workDir, 'child.pid'))];
    }

    async function expectGone(pids: number[]): Promise<void> {
      for (const pid of pids) expect(await waitUntilGone(pid, 1000), `pid ${pid} still running`).to.equal(true);
    }

    it('times out after the service timeout and kills the whole tree', async () => {
      const workDir = await dirs.make();
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh', { timeoutSeconds: 1 }), workDir);
      expect(outcome).to.deep.equal({ status: 'failed', code: 'timeout', message: "timed out after 1 s (the service's timeout)" });
      await expectGone(await treePids(workDir));
    });

    it('times out at the deadline when it comes first', async () => {
      const workDir = await dirs.make();
      const deadline = new Date(Date.now() + 300);
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh'), workDir, { deadline });
      expect(outcome).to.deep.equal({ status: 'failed', code: 'timeout', message: `timed out after 0.3 s (the job's deadline, ${deadline.toISOString()})` });
      await expectGone(await treePids(workDir));
    });

    it('does not start a run whose deadline has passed', async () => {
      const workDir = path.join(await dirs.make(), 'never');
      const deadline = new Date(Date.now() - 1);
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh'), workDir, { deadline });
      expect(outcome).to.deep.equal({ status: 'failed', code: 'timeout', message: `not started: the job's deadline, ${deadline.toISOString()}, had passed` });
      expect(existsSync(workDir)).to.equal(false);
    });

    it('kills the whole tree with SIGTERM on abort', async () => {
      const workDir = await dirs.make();
      const controller = new AbortController();
      const running = runFixture(fixtureService('sleep-tree.sh'), workDir, { signal: controller.signal });
      const pids = await treePids(workDir);
      controller.abort();
      await expectGone(pids);
      expect((await running).outcome).to.deep.equal({ status: 'killed', signal: 'SIGTERM' });
    });

    it('follows with SIGKILL when SIGTERM is ignored', async () => {
      const workDir = await dirs.make();
      const controller = new AbortController();
      const running = runFixture(fixtureService('ignore-term.sh'), workDir, { signal: controller.signal, killGraceMs: 300 });
      const pids = await treePids(workDir);
      controller.abort();
      expect((await running).outcome).to.deep.equal({ status: 'killed', signal: 'SIGKILL' });
      await expectGone(pids);
    });

    it('does not start a run that is already aborted', async () => {
      const workDir = path.join(await dirs.make(), 'never');
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh'), workDir, { signal: AbortSignal.abort() });
      expect(outcome).to.deep.equal({ status: 'killed', signal: 'SIGTERM' });
      expect(existsSync(workDir)).to.equal(false);
    });

    it('kills what a successful program left running', async () => {
      const workDir = await dirs.make();
      const { outcome } = await runFixture(fixtureService('leave-orphan.sh'), workDir);
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { result: { kind: 'value', value: 'done' } } });
      await expectGone([await readPidFile(path.join(workDir, 'child.pid'))]);
    });

    it('does not wait for pipes held by a process that left the group', async () => {
      const workDir = await dirs.make();
      const started = Date.now();
      const { outcome } = await runFixture(fixtureService('escape-group.sh'), workDir);
      const escaped = await readPidFile(path.join(workDir, 'escaped.pid'));
      try {
        expect(Date.now() - started).to.be.below(5000);
        expect(outcome).to.deep.equal({ status: 'completed', outputs: { result: { kind: 'value', value: 'done' } } });
        expect(isGone(escaped)).to.equal(false);
      } finally {
        process.kill(escaped, 'SIGKILL');
      }
    });

    it('fails and kills the run when kept stdout exceeds the limit', async () => {
      const { outcome } = await runFixture(fixtureService('flood.sh', { timeoutSeconds: 10 }), await dirs.make(), { maxStdoutBytes: 1024 });
      expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: 'stdout exceeds 1 KiB' });
    });

    it('does not limit stdout that no output reads', async () => {
      const service = fixtureService('echo.sh', { customArgs: ['x'.repeat(100)], outputs: {} });
      const { outcome } = await runFixture(service, await dirs.make(), { maxStdoutBytes: 16 });
      expect(outcome).to.deep.equal({ status: 'completed', outputs: {} });
    });
  }),
);
