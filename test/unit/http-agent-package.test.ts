import { expect } from 'chai';
import { Router } from '@koa/router';
import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ERROR_TYPES } from '../../src/errors.js';
import { agentPackageRoutes } from '../../src/http/agent-package-routes.js';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { problemOf } from '../helpers/http-harness.js';
import { testLogger } from '../helpers/logger.js';

describe('GET /agent/outpost-agent.tgz', () => {
  let dir: string;
  let tarball: string;
  let server: http.Server;
  let url: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-agent-package-'));
    tarball = path.join(dir, 'outpost-agent.tgz');
    const app = new Koa();
    const router = new Router();
    agentPackageRoutes(router, tarball);
    app.use(errorMiddleware(testLogger));
    app.use(router.routes());
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent/outpost-agent.tgz`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the built file as application/gzip with its length and an ETag', async () => {
    const bytes = randomBytes(300_000);
    await writeFile(tarball, bytes);
    const response = await fetch(url);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/gzip');
    expect(response.headers.get('content-length')).to.equal(String(bytes.length));
    expect(response.headers.get('etag')).to.match(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).to.equal(true);
    const head = await fetch(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).to.deep.equal([200, String(bytes.length)]);
  });

  /** A conditional GET as a cache sends it; fetch() would add `Cache-Control: no-cache`, which asks for the whole file. */
  const revalidate = (etag: string) =>
    new Promise<{ status: number; etag: string | undefined; body: string }>((resolve, reject) => {
      http.get(url, { headers: { 'If-None-Match': etag } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, etag: response.headers.etag, body }));
      }).on('error', reject);
    });

  it('answers 304 while the file is unchanged, and the new file once it is rebuilt', async () => {
    await writeFile(tarball, 'first build');
    const etag = (await fetch(url)).headers.get('etag')!;
    expect(await revalidate(etag)).to.deep.equal({ status: 304, etag, body: '' });
    await writeFile(tarball, 'second build, longer');
    await utimes(tarball, new Date(), new Date(Date.now() + 5000));
    const rebuilt = await revalidate(etag);
    expect([rebuilt.status, rebuilt.body]).to.deep.equal([200, 'second build, longer']);
    expect(rebuilt.etag).to.not.equal(etag);
  });

  it('answers 404 with a one-line problem when the package has not been built', async () => {
    const response = await fetch(url);
    expect(response.status).to.equal(404);
    const problem = await problemOf(response);
    expect([problem.type, problem.detail]).to.deep.equal([ERROR_TYPES['not-found'], 'the agent package has not been built: run npm run build on the orchestrator']);
  });
});
