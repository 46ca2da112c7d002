import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunOutcome } from '../../agent/runner/run-process.js';
import type { ArgFormat } from '../../agent/services/service-definition.js';
import { fixture } from '../helpers/paths.js';
import { fixtureService, forEachStartPath, runFixture, runnerSandbox } from '../helpers/runner-fixtures.js';

function resultText(outcome: RunOutcome): string {
  if (outcome.status !== 'completed') expect.fail(`run did not complete: ${JSON.stringify(outcome)}`);
  const result = outcome.outputs.result;
  if (result?.kind !== 'value' || typeof result.value !== 'string') return expect.fail('no string output');
  return result.value;
}

/** print-args.sh ends every argument with a NUL byte. */
function printedArgs(outcome: RunOutcome): string[] {
  return resultText(outcome).split('\0').slice(0, -1);
}

forEachStartPath((startPath) =>
  describe(`runProcess: running a program (${startPath})`, () => {
    const dirs = runnerSandbox();

    const argsService = (argFormat: ArgFormat) =>
      fixtureService('print-args.sh', {
        argFormat,
        customArgs: ['--mode', 'x y'],
        inputs: { name: { type: 'string' }, count: { type: 'integer', default: 2 }, flag: { type: 'boolean', required: false } },
      });

    const formats: Array<[ArgFormat, string[]]> = [
      ['--{key}={value}', ['--name=a b', '--count=2', '--flag=true']],
      ['--{key} {value}', ['--name', 'a b', '--count', '2', '--flag', 'true']],
      ['-{key} {value}', ['-name', 'a b', '-count', '2', '-flag', 'true']],
      ['positional', ['a b', '2', 'true']],
    ];
    for (const [format, expected] of formats) {
      it(`passes inputs as ${format}`, async () => {
        const { outcome } = await runFixture(argsService(format), await dirs.make(), { inputs: { flag: true, name: 'a b' } });
        expect(printedArgs(outcome)).to.deep.equal(['--mode', 'x y', ...expected]);
      });
    }

    it('passes shell metacharacters, quotes and newlines to the program as literal text', async () => {
      const workDir = await dirs.make();
      const values = ['; touch pwned1', '$(touch pwned2)', '`touch pwned3`', `it's "quoted"`, 'two\nlines', '*', '| cat > pwned4', '&& exit 9'];
      const inputs = Object.fromEntries(values.map((value, i) => [`v${i}`, value]));
      const service = fixtureService('print-args.sh', {
        argFormat: 'positional',
        inputs: Object.fromEntries(values.map((_, i) => [`v${i}`, { type: 'string' as const }])),
      });
      const { outcome } = await runFixture(service, workDir, { inputs });
      expect(printedArgs(outcome)).to.deep.equal(values);
      for (const n of [1, 2, 3, 4]) expect(existsSync(path.join(workDir, `pwned${n}`))).to.equal(false);
    });

    it('writes the inputs as JSON to stdin for stdin-json', async () => {
      const service = fixtureService('read-stdin.sh', {
        argFormat: 'stdin-json',
        inputs: { text: { type: 'string' }, n: { type: 'number', default: 1.5 } },
      });
      const { outcome } = await runFixture(service, await dirs.make(), { inputs: { text: '$(id) "x"' } });
      expect(resultText(outcome)).to.equal('{"text":"$(id) \\"x\\"","n":1.5}');
    });

    it('gives the program a minimal environment and creates its work directory', async () => {
      const workDir = path.join(await dirs.make(), 'jobs', 'job-1');
      process.env.OUTPOST_TEST_SECRET = 'must-not-leak';
      try {
        const { outcome } = await runFixture(fixtureService('print-env.sh', { env: { GREETING: 'hello world' } }), workDir);
        const env = Object.fromEntries(resultText(outcome).split('\n').map((line) => line.split(/=(.*)/s, 2)));
        expect(env).to.deep.equal({
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: workDir,
          TMPDIR: workDir,
          LC_CTYPE: 'C.UTF-8',
          OUTPOST_JOB_ID: 'job-1',
          GREETING: 'hello world',
          PWD: workDir,
        });
      } finally {
        delete process.env.OUTPOST_TEST_SECRET;
      }
    });

    it('reports climbing progress from regex and JSON lines, and keeps only the JSON lines out of stdout', async () => {
      const { outcome, progress } = await runFixture(fixtureService('progress.sh', { progress: 'PROGRESS (\\d+)' }), await dirs.make());
      expect(resultText(outcome)).to.equal('PROGRESS 10\nPROGRESS 20\nPROGRESS 30\nPROGRESS 40\nPROGRESS 50\ndone');
      const percents = progress.map((report) => report.progress);
      expect(percents[0]).to.equal(10);
      expect(progress.at(-1)).to.deep.equal({ progress: 100, message: 'step 100' });
      for (let i = 1; i < percents.length; i++) expect(percents[i]).to.be.greaterThan(percents[i - 1]!);
    });

    it('coalesces a burst of progress on stderr into the first and the last report', async () => {
      const { progress } = await runFixture(fixtureService('progress-burst.sh', { progress: 'PROGRESS (\\d+)' }), await dirs.make());
      expect(progress).to.deep.equal([{ progress: 1 }, { progress: 100 }]);
    });

    it('fails with the exit code, the last stderr line and the last 4 KiB of stderr', async () => {
      const { outcome } = await runFixture(fixtureService('fail.sh'), await dirs.make());
      const stderr = Array.from({ length: 300 }, (_, i) => `noise ${i}\n`).join('') + 'error: bad header\n\n';
      expect(outcome).to.deep.equal({
        status: 'failed',
        code: 'exit',
        message: 'exited with code 3: error: bad header',
        exitCode: 3,
        stderr: stderr.slice(-4096),
      });
    });

    it('fails with the bare exit code when stderr is empty', async () => {
      const { outcome } = await runFixture(fixtureService('exit-quietly.sh'), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'exit', message: 'exited with code 5', exitCode: 5 });
    });

    it('fails with the signal that killed the program', async () => {
      const { outcome } = await runFixture(fixtureService('crash.sh'), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'signal', message: 'killed by signal SIGUSR1', signal: 'SIGUSR1' });
    });

    it('fails to start a missing executable', async () => {
      const service = fixtureService('print-args.sh', { executable: '/nonexistent/outpost-tool' });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'spawn', message: "executable '/nonexistent/outpost-tool' not found" });
    });

    it('fails to start a file that is not executable', async () => {
      const executable = fixture('bin', 'not-executable.sh');
      const { outcome } = await runFixture(fixtureService('not-executable.sh'), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'spawn', message: `executable '${executable}' is not executable` });
    });

    it('refuses undeclared and non-scalar inputs without starting the program', async () => {
      const workDir = path.join(await dirs.make(), 'never');
      const service = fixtureService('print-args.sh', { inputs: { name: { type: 'string' } } });
      expect((await runFixture(service, workDir, { inputs: { name: 'a', x: 1 } })).outcome).to.deep.equal({
        status: 'failed',
        code: 'invalid-inputs',
        message: "unknown input 'x'",
      });
      expect((await runFixture(service, workDir, { inputs: { name: ['a'] } })).outcome).to.deep.equal({
        status: 'failed',
        code: 'invalid-inputs',
        message: "input 'name' must be a string",
      });
      expect(existsSync(workDir)).to.equal(false);
    });

    it('fails as internal when the progress regex is invalid', async () => {
      const { outcome } = await runFixture(fixtureService('echo.sh', { progress: '(' }), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'internal', message: "'progress' is not a valid regular expression: Invalid regular expression: /(/u: Unterminated group" });
    });
  }),
);
