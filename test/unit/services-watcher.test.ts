import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import type { Catalog } from '../../agent/services/catalog.js';
import { watchServices, type ServicesWatcher, type WatchServicesOptions } from '../../agent/services/services-watcher.js';
import { useTempDir, writeProperties, writeScript } from '../helpers/temp-services.js';

/** Long enough for the watcher to have handled an event it was going to handle. */
const SETTLE_MS = 300;
/** The periodic rescan is pushed out of the way unless a test is about it. */
const NO_RESCAN = { rescanMs: 60_000 };

describe('watchServices', () => {
  let watcher: ServicesWatcher | undefined;
  let changes: Catalog[];
  let errors: Error[];
  // Registered before the temp folder's hooks, so the watcher closes before its folder goes.
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });
  const tempDir = useTempDir();
  let dir: string;
  let tool: string;

  beforeEach(async () => {
    dir = tempDir();
    tool = await writeScript(path.join(dir, 'bin'), 'tool.sh');
    changes = [];
    errors = [];
    await write('echo.properties', { service: 'echo', title: 'Echo' });
  });

  const write = (file: string, properties: Record<string, string>) => writeProperties(dir, file, { executable: tool, ...properties });

  async function start(options: WatchServicesOptions = NO_RESCAN): Promise<ServicesWatcher> {
    watcher = await watchServices(dir, (catalog) => changes.push(catalog), { onError: (err) => errors.push(err), ...options });
    return watcher;
  }

  /** The first change since `action` that passes `test`, which must come within a second. */
  async function changeAfter(action: () => Promise<unknown>, test: (catalog: Catalog) => boolean): Promise<Catalog> {
    changes.length = 0;
    await action();
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline) {
      const found = changes.find(test);
      if (found) return found;
      await delay(10);
    }
    return expect.fail(`no matching change within 1 s (${changes.length} other change(s))`);
  }

  it('resolves with the first load and does not report it as a change', async () => {
    const { current } = await start();
    expect([...current().services.keys()]).to.deep.equal(['echo']);
    await delay(SETTLE_MS);
    expect(changes).to.deep.equal([]);
  });

  it('reports an added file with its new process', async () => {
    await start();
    const catalog = await changeAfter(
      () => write('upper.properties', { service: 'upper' }),
      (c) => c.services.has('upper'),
    );
    expect([...catalog.services.keys()]).to.deep.equal(['echo', 'upper']);
    expect(watcher?.current()).to.equal(catalog);
  });

  it('reports an edited description', async () => {
    await start();
    const catalog = await changeAfter(
      () => write('echo.properties', { service: 'echo', title: 'Echo', description: 'Says it again' }),
      (c) => c.services.get('echo')?.description !== undefined,
    );
    expect(catalog.services.get('echo')?.description).to.equal('Says it again');
  });

  it('reports a deleted file as a process gone', async () => {
    await start();
    const catalog = await changeAfter(
      () => fs.rm(path.join(dir, 'echo.properties')),
      (c) => !c.services.has('echo'),
    );
    expect(catalog.services.size).to.equal(0);
  });

  it('lists a broken file as invalid and leaves the valid ones as they were', async () => {
    await write('upper.properties', { service: 'upper' });
    const { current } = await start();
    const before = current().services;
    const catalog = await changeAfter(
      () => write('broken.properties', { service: 'broken', executable: 'missing.sh' }),
      (c) => c.invalid.length > 0,
    );
    expect(catalog.invalid).to.deep.equal([{ file: 'broken.properties', reason: `executable '${path.join(dir, 'missing.sh')}' does not exist` }]);
    expect(catalog.services).to.deep.equal(before);
  });

  it('does not report a file rewritten with the same content', async () => {
    await start();
    const content = await fs.readFile(path.join(dir, 'echo.properties'));
    await fs.writeFile(path.join(dir, 'echo.properties'), content);
    await delay(SETTLE_MS);
    expect(changes).to.deep.equal([]);
    // The watcher is still listening: a real change right after is reported.
    await changeAfter(
      () => write('echo.properties', { service: 'echo', title: 'Echo 2' }),
      (c) => c.services.get('echo')?.title === 'Echo 2',
    );
  });

  it('ends a burst of writes with the catalog of the last one', async () => {
    await start();
    const catalog = await changeAfter(
      async () => {
        for (let i = 1; i <= 20; i++) await write('echo.properties', { service: 'echo', title: `Echo ${i}` });
      },
      (c) => c.services.get('echo')?.title === 'Echo 20',
    );
    await delay(SETTLE_MS);
    expect(changes.at(-1)).to.equal(catalog);
    expect(watcher?.current()).to.equal(catalog);
  });

  it('notices a change fs.watch cannot see by rescanning periodically', async () => {
    await start({ rescanMs: 100 });
    const catalog = await changeAfter(
      () => fs.chmod(tool, 0o644),
      (c) => c.invalid.length > 0,
    );
    expect(catalog.invalid).to.deep.equal([{ file: 'echo.properties', reason: `executable '${tool}' is not executable` }]);
  });

  it('reports a failing rescan once and keeps the last catalog', async () => {
    const { current } = await start({ rescanMs: 200 });
    const before = current();
    // Moved away in one step, halfway between two rescans, so that none sees it half gone.
    await delay(100);
    const moved = `${dir}-moved`;
    await fs.rename(dir, moved);
    try {
      await delay(700);
      expect(errors.map((e) => e.message)).to.deep.equal([`ENOENT: no such file or directory, scandir '${dir}'`]);
      expect(current()).to.equal(before);
      expect(changes).to.deep.equal([]);
    } finally {
      await fs.rm(moved, { recursive: true });
    }
  });

  it('passes an error thrown by onChange to onError and keeps watching', async () => {
    watcher = await watchServices(
      dir,
      (catalog) => {
        changes.push(catalog);
        if (catalog.services.has('first')) throw new Error('listener broke');
      },
      { ...NO_RESCAN, onError: (err) => errors.push(err) },
    );
    await changeAfter(() => write('first.properties', { service: 'first' }), (c) => c.services.has('first'));
    await changeAfter(() => fs.rm(path.join(dir, 'first.properties')), (c) => !c.services.has('first'));
    expect(errors.map((e) => e.message)).to.deep.equal(['listener broke']);
  });

  it('stops reporting once closed, and can be closed twice', async () => {
    const started = await start({ rescanMs: 50 });
    await started.close();
    await write('upper.properties', { service: 'upper' });
    await delay(SETTLE_MS);
    expect(changes).to.deep.equal([]);
    expect(started.current().services.has('upper')).to.equal(false);
    await started.close();
  });

  it('refuses a folder that does not exist or is not a folder', async () => {
    const refusal = (folder: string) =>
      watchServices(folder, () => undefined).then(
        () => expect.fail('expected a refusal'),
        (err: Error) => err.message,
      );
    const missing = path.join(dir, 'missing');
    expect(await refusal(missing)).to.equal(`services folder '${missing}' does not exist`);
    expect(await refusal(tool)).to.equal(`services folder '${tool}' is not a directory`);
  });
});
