import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseOutputs } from '../../agent/services/output-specs.js';
import { toProcessSpec } from '../../agent/services/catalog.js';
import { fixtureService, runFixture, runnerSandbox } from '../helpers/runner-fixtures.js';
import { errorMessage, writeScript } from '../helpers/temp-services.js';

const TABLE = {
  table: {
    type: 'file',
    formats: {
      'text/csv': { from: 'file:t.csv', args: ['t.csv', 'a,b'] },
      'application/json': { from: 'file:t.json', args: ['t.json', '{}'] },
    },
  },
};
const parse = (outputs: unknown) => parseOutputs(JSON.stringify(outputs));
const refusal = (outputs: unknown) => errorMessage(() => parse(outputs));

describe('service files: output formats and directory outputs', () => {
  it('reads formats, the first one the default unless mediaType names another, and publishes their media types', () => {
    expect(parse(TABLE)['table']).to.deep.equal({
      type: 'file',
      mediaType: 'text/csv',
      from: { kind: 'file', path: 't.csv' },
      formats: {
        'text/csv': { from: { kind: 'file', path: 't.csv' }, args: ['t.csv', 'a,b'] },
        'application/json': { from: { kind: 'file', path: 't.json' }, args: ['t.json', '{}'] },
      },
    });
    const shade = parse({ shade: { type: 'file', mediaType: 'image/tiff', formats: { 'image/png': 'file:shade.png', 'image/tiff': 'file:shade.tif' } } });
    expect(shade['shade']).to.deep.include({ mediaType: 'image/tiff', from: { kind: 'file', path: 'shade.tif' } });
    const published = toProcessSpec(fixtureService('echo.sh', { outputs: shade }), 1).outputs;
    expect(published).to.deep.equal({ shade: { type: 'file', mediaType: 'image/tiff', formats: ['image/png', 'image/tiff'] } });
  });

  it('reads a directory output, sent as a zip archive', () => {
    expect(parse({ shp: { type: 'file', from: 'dir:out/' } })['shp']).to.deep.equal({ type: 'file', mediaType: 'application/zip', from: { kind: 'directory', path: 'out' } });
  });

  it('refuses formats and directories it cannot produce, saying why', () => {
    expect(refusal({ x: { type: 'string', formats: { 'text/plain': 'file:a' } } })).to.equal("output 'x': only a file output may have 'formats'");
    expect(refusal({ x: { type: 'file', from: 'file:a', formats: { 'text/plain': 'file:a' } } })).to.equal(
      "output 'x': with 'formats', each format says where its file is; leave out 'from'",
    );
    expect(refusal({ x: { type: 'file', formats: {} } })).to.equal("output 'x': 'formats' must map at least one media type to how it is produced");
    expect(refusal({ x: { type: 'file', formats: { png: 'file:a' } } })).to.equal("output 'x', format 'png': not a media type such as image/png");
    expect(refusal({ x: { type: 'file', formats: { 'image/png': { from: 'file:a', args: [1] } } } })).to.equal("output 'x', format 'image/png': 'args' must be an array of strings");
    expect(refusal({ x: { type: 'file', formats: { 'image/png': { from: 'file:a', of: 'PNG' } } } })).to.equal(
      "output 'x', format 'image/png': unknown member 'of' (a format has 'from' and 'args')",
    );
    expect(refusal({ x: { type: 'file', mediaType: 'image/gif', formats: { 'image/png': 'file:a' } } })).to.equal("output 'x': mediaType 'image/gif' is not one of its formats (image/png)");
    expect(refusal({ x: { type: 'file', formats: { 'image/png': 'file:../a' } } })).to.equal("output 'x', format 'image/png': path must stay inside the work directory");
    expect(refusal({ x: { type: 'string', from: 'dir:out/' } })).to.equal("output 'x': only a file output may come from a directory");
    expect(refusal({ x: { type: 'file', from: 'dir:./' } })).to.equal("output 'x': path must name a file inside the work directory");
  });
});

describe('runProcess: output formats and directory outputs', () => {
  const dirs = runnerSandbox();
  const writer = async (dir: string) => writeScript(dir, 'bin/write.sh', 'printf "%s" "$2" > "$1"');

  it("produces the chosen format: its args end the command line and its file is the output", async () => {
    const [bin, workDir] = [await dirs.make(), await dirs.make()];
    const service = fixtureService('echo.sh', { executable: await writer(bin), outputs: parse(TABLE) });
    const { outcome } = await runFixture(service, workDir, { formats: { table: 'application/json' } });
    const real = path.join(workDir, 't.json');
    expect(outcome).to.deep.equal({
      status: 'completed',
      outputs: { table: { kind: 'file', path: real, size: 2, filename: 't.json', mediaType: 'application/json' } },
    });
    const standard = await runFixture(service, await dirs.make());
    expect(standard.outcome).to.deep.nested.include({ 'outputs.table.filename': 't.csv', 'outputs.table.mediaType': 'text/csv' });
  });

  it('fails with invalid-inputs for a format the output does not have', async () => {
    const service = fixtureService('echo.sh', { executable: await writer(await dirs.make()), outputs: parse(TABLE) });
    const { outcome } = await runFixture(service, await dirs.make(), { formats: { table: 'image/png' } });
    expect(outcome).to.deep.equal({ status: 'failed', code: 'invalid-inputs', message: "output 'table' is not produced as 'image/png'; its formats are: text/csv, application/json" });
  });

  it('zips a directory output with everything below it, named after the directory', async () => {
    const bin = await dirs.make();
    const script = await writeScript(bin, 'bin/shapefile.sh', 'mkdir -p out/extra && echo s > out/a.shp && echo d > out/a.dbf && echo x > out/extra/a.aux.xml');
    const service = fixtureService('echo.sh', { executable: script, outputs: parse({ shp: { type: 'file', from: 'dir:out/' } }) });
    const { outcome } = await runFixture(service, await dirs.make());
    expect(outcome).to.deep.nested.include({ 'outputs.shp.filename': 'out.zip', 'outputs.shp.mediaType': 'application/zip' });
    const archive = (outcome as unknown as { outputs: { shp: { path: string } } }).outputs.shp.path;
    expect(execFileSync('zipinfo', ['-1', archive], { encoding: 'utf8' }).split('\n').filter(Boolean)).to.deep.equal([
      'a.dbf',
      'a.shp',
      'extra/',
      'extra/a.aux.xml',
    ]);
  });

  it('refuses a directory output holding a link, which could lead out of the work directory', async () => {
    const script = await writeScript(await dirs.make(), 'bin/link.sh', 'mkdir -p out && ln -s /etc/passwd out/passwd');
    const service = fixtureService('echo.sh', { executable: script, outputs: parse({ shp: { type: 'file', from: 'dir:out/' } }) });
    const { outcome } = await runFixture(service, await dirs.make());
    expect(outcome).to.deep.equal({ status: 'failed', code: 'output', message: "output 'shp': 'out/passwd' is neither a regular file nor a folder" });
  });
});
