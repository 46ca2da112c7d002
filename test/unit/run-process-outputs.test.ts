import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalOutputSpec } from '../../agent/services/service-definition.js';
import { fixtureService, forEachStartPath, runFixture, runnerSandbox } from '../helpers/runner-fixtures.js';

forEachStartPath((startPath) =>
  describe(`runProcess: collecting outputs (${startPath})`, () => {
    const dirs = runnerSandbox();

    const fileOutput = (filePath: string, extra: Partial<LocalOutputSpec> = {}): Record<string, LocalOutputSpec> => ({
      image: { type: 'file', from: { kind: 'file', path: filePath }, ...extra },
    });

    it('removes one trailing newline from a string output', async () => {
      const { outcome } = await runFixture(fixtureService('echo.sh', { customArgs: ['a', ''] }), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { result: { kind: 'value', value: 'a\n' } } });
    });

    it('parses a json output from stdout', async () => {
      const service = fixtureService('echo.sh', {
        customArgs: ['{"a":[1,true,null]}'],
        outputs: { data: { type: 'json', from: { kind: 'stdout' } } },
      });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { data: { kind: 'value', value: { a: [1, true, null] } } } });
    });

    it('fails when a json output is not valid JSON', async () => {
      const service = fixtureService('echo.sh', { customArgs: ['{"a":'], outputs: { data: { type: 'json', from: { kind: 'stdout' } } } });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({
        status: 'failed',
        code: 'output',
        message: "output 'data' is not valid JSON: Unexpected end of JSON input",
      });
    });

    it('returns a file output with its absolute path, media type and size', async () => {
      const workDir = await dirs.make();
      const service = fixtureService('write-file.sh', { outputs: fileOutput('out/a.tif', { mediaType: 'image/tiff' }) });
      const { outcome } = await runFixture(service, workDir);
      expect(outcome).to.deep.equal({
        status: 'completed',
        outputs: { image: { kind: 'file', path: path.join(workDir, 'out', 'a.tif'), mediaType: 'image/tiff', size: 9, filename: 'a.tif' } },
      });
    });

    it('reads a string output from a file', async () => {
      const service = fixtureService('write-file.sh', { outputs: { text: { type: 'string', from: { kind: 'file', path: 'out/a.tif' } } } });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { text: { kind: 'value', value: 'tif-bytes' } } });
    });

    it('refuses a file output read from stdout', async () => {
      const service = fixtureService('echo.sh', { outputs: { report: { type: 'file', from: { kind: 'stdout' } } } });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: "output 'report': a file output must name its file" });
    });

    it('fails when an output file was not created', async () => {
      const { outcome } = await runFixture(fixtureService('write-file.sh', { outputs: fileOutput('out/b.tif') }), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: "output 'image': file 'out/b.tif' was not created" });
    });

    it('fails when an output path is a directory', async () => {
      const { outcome } = await runFixture(fixtureService('write-file.sh', { outputs: fileOutput('out') }), await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: "output 'image': file 'out' is not a regular file" });
    });

    it('refuses an output file that is a symlink leading out of the work directory', async () => {
      const outside = path.join(await dirs.make(), 'secret.txt');
      await writeFile(outside, 'secret');
      const service = fixtureService('make-link.sh', { customArgs: [outside], outputs: fileOutput('link') });
      const { outcome } = await runFixture(service, await dirs.make());
      expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: "output 'image': file 'link' escapes the work directory" });
    });

    it('refuses an output path that leads out of the work directory', async () => {
      const { outcome } = await runFixture(fixtureService('write-file.sh', { outputs: fileOutput('../out/a.tif') }), await dirs.make());
      expect(outcome).to.deep.equal({
        status: 'failed',
        code: 'output',
        message: "output 'image': file '../out/a.tif' escapes the work directory",
      });
    });
  }),
);
