import { expect } from 'chai';
import { Router } from '@koa/router';
import BetterSqlite3 from 'better-sqlite3';
import Koa from 'koa';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { problemOf } from '../helpers/http-harness.js';
import { capturingLogger } from '../helpers/logger.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const run = promisify(execFile);
const READ_ONLY = "the server's data directory is read-only, so it cannot store anything now; nothing was changed, retry later";

/** Writes that a read-only data directory refuses, for real: through a read-only SQLite connection and into a read-only mount. */
describe('HTTP: a data directory that cannot be written', () => {
  let database: TempDatabase;
  let readOnly: BetterSqlite3.Database;
  let readOnlyMount = '';
  let server: http.Server;
  let url: string;
  const { logger, lines } = capturingLogger();

  before(async () => {
    database = await openTempDatabase();
    database.db.exec('CREATE TABLE notes (text TEXT)');
    readOnly = new BetterSqlite3(database.file, { readonly: true });
    if (process.getuid?.() === 0) {
      readOnlyMount = await mkdtemp(path.join(os.tmpdir(), 'outpost-read-only-'));
      await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'outpost-test', readOnlyMount]);
    }
    const router = new Router();
    router.post('/sqlite', (ctx) => {
      readOnly.prepare('INSERT INTO notes (text) VALUES (?)').run('refused');
      ctx.body = 'stored';
    });
    router.post('/file', async (ctx) => {
      await writeFile(path.join(readOnlyMount, 'result'), 'refused');
      ctx.body = 'stored';
    });
    const app = new Koa();
    app.use(errorMiddleware(logger));
    app.use(router.routes());
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    readOnly.close();
    await database.dispose();
    if (readOnlyMount) {
      await run('umount', [readOnlyMount]).catch(() => undefined);
      await rm(readOnlyMount, { recursive: true, force: true });
    }
  });

  it('answers SQLITE_READONLY with 503, Retry-After and one line, and logs the code', async () => {
    const response = await fetch(`${url}/sqlite`, { method: 'POST' });
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('30');
    expect(await problemOf(response)).to.deep.equal({ type: 'urn:outpost:error:unavailable', title: 'Service unavailable', status: 503, detail: READ_ONLY });
    expect(lines.at(-1)).to.include({ level: 50, code: 'SQLITE_READONLY', path: '/sqlite', msg: 'request refused: the data directory cannot be written' });
    expect(database.db.prepare('SELECT count(*) AS n FROM notes').get()).to.deep.equal({ n: 0 });
  });

  it('answers EROFS from a file write with the same 503', async function () {
    if (!readOnlyMount) {
      process.stdout.write('      (skipped: mounting a read-only tmpfs needs root)\n');
      this.skip();
    }
    const response = await fetch(`${url}/file`, { method: 'POST' });
    expect(response.status).to.equal(503);
    expect((await problemOf(response)).detail).to.equal(READ_ONLY);
  });
});
