import { expect } from 'chai';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { inputExecutor, type Exception } from '../helpers/execute-inputs.js';
import { fixture } from '../helpers/paths.js';
import { writeProperties } from '../helpers/temp-services.js';

const OPTION_REFUSAL = "must not start with '-' (the program would read it as an option)";

describe('no user value becomes a program option, through a real agent', function () {
  let cluster: Cluster;
  let root: string;
  let data: string;
  let victim: string;

  before(async function () {
    cluster = await startCluster();
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-argv-')));
    const services = path.join(root, 'services');
    data = path.join(root, 'data');
    victim = path.join(root, 'victim.txt');
    await fs.mkdir(services);
    await fs.mkdir(data);
    await fs.writeFile(path.join(data, 'inside.txt'), 'inside\n');
    await fs.writeFile(victim, 'keep me\n');
    await fs.symlink(root, path.join(data, 'escape'));
    const path1 = (extra: object = {}) => JSON.stringify({ path: { type: 'string', ...extra } });
    await writeProperties(services, 'ls.properties', { service: 'ls', executable: '/bin/ls', argformat: 'positional', inputs: path1() });
    await writeProperties(services, 'sort.properties', {
      service: 'sort',
      executable: '/usr/bin/sort',
      argformat: 'positional',
      inputs: JSON.stringify({ file: { type: 'string' } }),
    });
    await writeProperties(services, 'args.properties', {
      service: 'args',
      executable: fixture('bin', 'print-args.sh'),
      argformat: '--{key} {value}',
      inputs: JSON.stringify({ x: { type: 'string' } }),
    });
    await writeProperties(services, 'ls-ended.properties', {
      service: 'ls-ended',
      executable: '/bin/ls',
      argformat: 'positional',
      endofoptions: 'true',
      inputs: path1(),
    });
    await writeProperties(services, 'ls-data.properties', {
      service: 'ls-data',
      executable: '/bin/ls',
      argformat: 'positional',
      inputs: path1({ within: [data] }),
    });
    await cluster.addAgent('worker', services);
  });
  after(async function () {
    await cluster.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  const { execute, expectRefusedBeforeDispatch: refusedBeforeDispatch } = inputExecutor(() => cluster);

  const expectRefusedBeforeDispatch = (process: string, inputs: Record<string, unknown>, input: string) =>
    refusedBeforeDispatch(process, inputs, `input '${input}' ${OPTION_REFUSAL}`);

  it('refuses --help for positional ls before anything runs', async function () {
    await expectRefusedBeforeDispatch('ls', { path: '--help' }, 'path');
  });

  it('refuses --output=FILE for positional sort, and the file stays as it was', async function () {
    await expectRefusedBeforeDispatch('sort', { file: `--output=${victim}` }, 'file');
    expect(await fs.readFile(victim, 'utf8')).to.equal('keep me\n');
  });

  it('refuses --evil as the value of a --{key} {value} service, and passes a plain value', async function () {
    await expectRefusedBeforeDispatch('args', { x: '--evil' }, 'x');
    const response = await execute('args', { x: 'plain' });
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal('--x\0plain\0');
  });

  it('passes --help to ls as a file name after the -- that endofoptions asks for', async function () {
    const response = await execute('ls-ended', { path: '--help' });
    expect(response.status).to.equal(500);
    const exception = (await response.json()) as Exception;
    expect(exception.failure).to.deep.include({ code: 'exit', exitCode: 2 });
    expect(exception.detail).to.include("ls: cannot access '--help': No such file or directory");
  });

  describe('a path input confined to a directory', function () {
    const refusal = (rule: string) => `input 'path' must be ${rule}`;
    const cases: [string, string, string][] = [
      ['a path outside', '/etc/passwd', 'a path inside DATA (symbolic links followed)'],
      ['a symbolic link inside that points outside', 'DATA/escape/victim.txt', 'a path inside DATA (symbolic links followed)'],
      ['a GDAL virtual file', '/vsicurl/http://example.com/dem.tif', 'a path inside DATA, not a URL or GDAL virtual file'],
      ['a relative path', 'inside.txt', 'an absolute path inside DATA'],
    ];
    for (const [what, value, rule] of cases) {
      it(`refuses ${what} with a 400 that names the input and the rule`, async function () {
        const response = await execute('ls-data', { path: value.replace('DATA', data) });
        expect(response.status).to.equal(400);
        const exception = (await response.json()) as Exception;
        expect(exception.failure?.code).to.equal('invalid-inputs');
        expect(exception.detail).to.match(new RegExp(`^job '[0-9a-f-]{36}' failed \\(invalid-inputs\\): `));
        expect(exception.detail.replace(/^job .* failed \(invalid-inputs\): /, '')).to.equal(refusal(rule.replace('DATA', data)));
      });
    }

    it('runs with a path inside', async function () {
      const response = await execute('ls-data', { path: path.join(data, 'inside.txt') });
      expect(response.status).to.equal(200);
      expect(await response.text()).to.equal(path.join(data, 'inside.txt'));
    });
  });
});
