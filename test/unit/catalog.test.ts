import fs from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { loadCatalog, sameCatalog, toProcessSpec } from '../../agent/services/catalog.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';
import { ProcessSpecSchema } from '../../protocol/index.js';
import { useTempDir, writeProperties, writeScript } from '../helpers/temp-services.js';

describe('loadCatalog', () => {
  const tempDir = useTempDir();
  let dir: string;
  let tool: string;

  beforeEach(async () => {
    dir = tempDir();
    tool = await writeScript(dir, 'tool.sh');
  });

  const write = (file: string, properties: Record<string, string>) => writeProperties(dir, file, { executable: tool, ...properties });

  it('reads properties files in file name order and lists refused ones by file name', async () => {
    await write('z.properties', { service: 'first' });
    await write('y.properties', { service: 'second' });
    await write('b.properties', { service: 'bad name' });
    await write('a.properties', { service: 'other', timeout: 'never' });
    const catalog = await loadCatalog(dir);
    expect([...catalog.services.keys()]).to.deep.equal(['second', 'first']);
    expect(catalog.services.get('first')?.file).to.equal('z.properties');
    expect(catalog.invalid).to.deep.equal([
      { file: 'a.properties', reason: "'timeout' must be a positive number of seconds" },
      { file: 'b.properties', reason: "'service' must match [A-Za-z0-9_.-]+ (at most 100 characters)" },
    ]);
  });

  it('ignores other files, hidden files, editor leftovers and inactive files', async () => {
    await write('echo.properties', { service: 'echo' });
    await write('parked.properties', { service: 'parked', active: 'false' });
    for (const name of ['notes.txt', '.hidden.properties', '.#echo.properties', 'echo.properties~', '.echo.properties.swp', 'echo.properties.bak']) {
      await fs.writeFile(path.join(dir, name), 'not a properties file');
    }
    const catalog = await loadCatalog(dir);
    expect([...catalog.services.keys()]).to.deep.equal(['echo']);
    expect(catalog.invalid).to.deep.equal([]);
  });

  it('refuses a second file defining an id an earlier file already defines', async () => {
    await write('a.properties', { service: 'x' });
    await write('b.properties', { service: 'x', title: 'shadow' });
    await write('c.properties', { service: 'x', namespace: 'n' });
    const catalog = await loadCatalog(dir);
    expect([...catalog.services.keys()]).to.deep.equal(['x', 'n:x']);
    expect(catalog.services.get('x')?.file).to.equal('a.properties');
    expect(catalog.invalid).to.deep.equal([{ file: 'b.properties', reason: "process id 'x' is already defined by a.properties" }]);
  });

  it('lets an id be claimed by a later file when the earlier one is invalid or inactive', async () => {
    await write('a.properties', { service: 'x', timeout: '-1' });
    await write('b.properties', { service: 'y', active: 'false' });
    await write('c.properties', { service: 'x' });
    await write('d.properties', { service: 'y' });
    const catalog = await loadCatalog(dir);
    expect([...catalog.services.values()].map((s) => s.file)).to.deep.equal(['c.properties', 'd.properties']);
    expect(catalog.invalid.map((i) => i.file)).to.deep.equal(['a.properties']);
  });

  it('fails when the folder cannot be read', async () => {
    const missing = path.join(dir, 'missing');
    const error = await loadCatalog(missing).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.equal(`ENOENT: no such file or directory, scandir '${missing}'`);
  });

  describe('hash', () => {
    const inputs = (a: object, b: object) => ({ inputs: JSON.stringify({ ...a, ...b }) });
    const writeEcho = (properties: Record<string, string>) => write('echo.properties', { service: 'echo', ...properties });

    beforeEach(async () => {
      await writeEcho({ title: 'Echo', ...inputs({ a: { type: 'string' } }, { b: { type: 'number', default: 1 } }) });
      await write('broken.properties', { service: 'broken', max_parallel: '0' });
    });

    async function hashAfter(change: () => Promise<unknown>): Promise<string> {
      await change();
      return (await loadCatalog(dir)).hash;
    }

    it('is a sha256 hex digest that the same folder content always gives', async () => {
      const first = await loadCatalog(dir);
      expect(first.hash).to.match(/^[0-9a-f]{64}$/);
      const content = await fs.readFile(path.join(dir, 'echo.properties'));
      expect(await hashAfter(() => fs.writeFile(path.join(dir, 'echo.properties'), content))).to.equal(first.hash);
      expect(await hashAfter(() => fs.writeFile(path.join(dir, 'README.txt'), 'hello'))).to.equal(first.hash);
      expect(await hashAfter(() => write('parked.properties', { service: 'parked', active: 'false' }))).to.equal(first.hash);
    });

    it('changes with every change of a published description or of an invalid reason', async () => {
      const a = { a: { type: 'string' } };
      const seen = new Set([(await loadCatalog(dir)).hash]);
      const changes: Array<[string, () => Promise<unknown>]> = [
        ['title', () => writeEcho({ title: 'Echo!', ...inputs(a, { b: { type: 'number', default: 1 } }) })],
        ['input order', () => writeEcho({ title: 'Echo!', ...inputs({ b: { type: 'number', default: 1 } }, a) })],
        ['input default', () => writeEcho({ title: 'Echo!', ...inputs({ b: { type: 'number', default: 2 } }, a) })],
        ['max_parallel', () => writeEcho({ title: 'Echo!', ...inputs({ b: { type: 'number', default: 2 } }, a), max_parallel: '3' })],
        ['keep_jobs', () => writeEcho({ title: 'Echo!', ...inputs({ b: { type: 'number', default: 2 } }, a), max_parallel: '3', keep_jobs: '60' })],
        ['invalid reason', () => write('broken.properties', { service: 'broken', timeout: '0' })],
        ['invalid file name', () => fs.rename(path.join(dir, 'broken.properties'), path.join(dir, 'broken2.properties'))],
        ['added file', () => write('more.properties', { service: 'more' })],
        ['removed file', () => fs.rm(path.join(dir, 'echo.properties'))],
      ];
      for (const [what, change] of changes) {
        const hash = await hashAfter(change);
        expect(seen.has(hash), `hash unchanged after a change of ${what}`).to.equal(false);
        seen.add(hash);
      }
    });

    it('ignores settings that stay on the agent, which sameCatalog still notices', async () => {
      const before = await loadCatalog(dir);
      await writeEcho({ title: 'Echo', ...inputs({ a: { type: 'string' } }, { b: { type: 'number', default: 1 } }), timeout: '5', env: '{"A":"1"}' });
      const after = await loadCatalog(dir);
      expect(after.hash).to.equal(before.hash);
      expect(sameCatalog(before, after)).to.equal(false);
      expect(sameCatalog(after, await loadCatalog(dir))).to.equal(true);
    });
  });
});

describe('toProcessSpec', () => {
  const service: ServiceDefinition = {
    file: 'convert.properties',
    id: 'img:convert',
    title: 'Convert',
    keywords: ['image'],
    version: '2.0.0',
    executable: '/usr/local/bin/convert',
    customArgs: ['--quiet'],
    argFormat: 'positional',
    inputs: { size: { type: 'integer', minimum: 1, required: true } },
    outputs: {
      image: { type: 'file', from: { kind: 'file', path: 'out.png' }, mediaType: 'image/png', description: 'the picture' },
      log: { type: 'string', from: { kind: 'stdout' } },
    },
    progress: '(\\d+)%',
    timeoutSeconds: 60,
    maxParallel: 3,
    env: { SECRET: 'x' },
  };
  const validate = new Ajv({ strict: true }).compile(ProcessSpecSchema);

  it('keeps only what the orchestrator publishes', () => {
    const spec = toProcessSpec(service, 8);
    expect(spec).to.deep.equal({
      id: 'img:convert',
      title: 'Convert',
      keywords: ['image'],
      version: '2.0.0',
      inputs: { size: { type: 'integer', minimum: 1, required: true } },
      outputs: { image: { type: 'file', mediaType: 'image/png', description: 'the picture' }, log: { type: 'string' } },
      maxParallel: 3,
      file: 'convert.properties',
    });
    expect(validate(spec), JSON.stringify(validate.errors)).to.equal(true);
  });

  it('publishes keep_jobs as keepJobs, for the orchestrator to keep finished jobs that long', () => {
    const spec = toProcessSpec({ ...service, keepJobs: 86400 }, 8);
    expect(spec.keepJobs).to.equal(86400);
    expect(validate(spec), JSON.stringify(validate.errors)).to.equal(true);
  });

  it('caps maxParallel at the agent slots and uses the slots when the file sets none', () => {
    expect(toProcessSpec(service, 2).maxParallel).to.equal(2);
    const { maxParallel: _unused, ...unlimited } = service;
    expect(toProcessSpec(unlimited, 4).maxParallel).to.equal(4);
  });
});
