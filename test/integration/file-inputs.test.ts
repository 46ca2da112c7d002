import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AddressAllowlist } from '../../net/address-guard.js';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const MAX_FETCH_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 1500;
const FORBIDDEN = 'a loopback, private, link-local or reserved address; file inputs go there only when --fetch-allow lists it';

/** What the test's own web server serves, by path: [status, headers, body]. */
type Served = Record<string, [number, Record<string, string>, Buffer | string]>;

describe('file inputs: sent inline or by reference, fetched by the agent into the run', function () {
  let cluster: Cluster;
  let agent: TestAgent;
  let dir: string;
  let web: http.Server;
  let webPort: number;
  const served: Served = {};
  const runs = () => (existsSync(path.join(dir, 'runs')) ? readFileSync(path.join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length : 0);

  before(async function () {
    cluster = await startCluster();
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-file-inputs-'));
    // Says what it got: the file's SHA-256 and size, and that it ran at all.
    await writeScript(dir, 'bin/digest.sh', `echo ran >> ${path.join(dir, 'runs')}\nprintf '%s %s' "$(sha256sum < "$1" | cut -c1-64)" "$(wc -c < "$1")"`);
    await writeProperties(dir, 'digest.properties', {
      service: 'digest',
      executable: 'bin/digest.sh',
      argformat: 'positional',
      inputs: JSON.stringify({ data: { type: 'file', mediaTypes: ['application/octet-stream', 'text/plain', 'image/tiff'] } }),
    });
    web = http.createServer((request, response) => {
      if (request.url === '/never') return; // answers nothing, ever
      const [status, headers, body] = served[request.url ?? ''] ?? [404, {}, 'not here'];
      response.writeHead(status, headers).end(body);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as AddressInfo).port;
    const allow = new AddressAllowlist(['localhost'], 'file inputs', '--fetch-allow');
    agent = await cluster.addAgent('files', dir, { fetchLimits: { allow, maxBytes: MAX_FETCH_BYTES, timeoutMs: FETCH_TIMEOUT_MS } });
  });
  after(async function () {
    await cluster.stop();
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const execute = (data: unknown) =>
    cluster.api(`${cluster.orchestrator.url}/processes/digest/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { data } }),
    });
  const digest = (bytes: Buffer | string) => `${createHash('sha256').update(bytes).digest('hex')} ${Buffer.byteLength(bytes)}`;
  const local = (route: string) => `http://localhost:${webPort}${route}`;
  async function failure(data: unknown): Promise<{ status: number; detail: string }> {
    const response = await execute(data);
    return { status: response.status, detail: ((await response.json()) as { detail: string }).detail };
  }

  it('describes a file input as OGC describes binary inputs, one schema per media type', async function () {
    const description = (await (await cluster.api(`${cluster.orchestrator.url}/processes/digest`)).json()) as { inputs: Record<string, { schema: unknown }> };
    const binary = (contentMediaType: string) => ({ type: 'string', contentEncoding: 'binary', contentMediaType });
    expect(description.inputs['data']!.schema).to.deep.equal({ oneOf: ['application/octet-stream', 'text/plain', 'image/tiff'].map(binary) });
  });

  it('gives the program a file sent inline in base64, in its work directory, and removes it afterwards', async function () {
    const bytes = randomBytes(60_000);
    const response = await execute({ value: bytes.toString('base64'), mediaType: 'image/tiff', encoding: 'base64' });
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal(digest(bytes));
    const empty = (folder: string) => async () => ((await readdir(folder)).length === 0 ? true : undefined);
    await eventually(empty(path.join(agent.workDir, 'jobs')), 2000, "the run's work directory removed");
    await eventually(empty(path.join(cluster.dataDir, 'inputs')), 2000, 'the stored input removed');
  });

  it('takes the text of a text file as it is', async function () {
    const response = await execute({ value: 'x,y\n1,2\n', mediaType: 'text/plain' });
    expect(await response.text()).to.equal(digest('x,y\n1,2\n'));
  });

  it('fetches a file by reference from an allowlisted host', async function () {
    const bytes = randomBytes(30_000);
    served['/dem.tif'] = [200, { 'content-type': 'image/tiff' }, bytes];
    const response = await execute({ href: local('/dem.tif') });
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal(digest(bytes));
  });

  it('refuses at execute time a media type the input does not accept, or a value that is no file', async function () {
    const before = runs();
    expect(await failure({ value: 'AAAA', mediaType: 'image/png' })).to.deep.equal({
      status: 400,
      detail: "input 'data' is image/png, which it does not accept; it accepts application/octet-stream, text/plain, image/tiff",
    });
    expect(await failure({ value: 'not base64!', mediaType: 'image/tiff' })).to.deep.equal({ status: 400, detail: "input 'data' is image/tiff, so its value must be base64" });
    expect(await failure({ value: 'AAAA' })).to.deep.equal({ status: 400, detail: "input 'data' needs a mediaType: one of application/octet-stream, text/plain, image/tiff" });
    expect(await failure({ href: 'file:///etc/passwd' })).to.deep.equal({ status: 400, detail: "input 'data' must have an http or https URL of at most 2000 characters as its href" });
    expect(await failure('/etc/passwd')).to.deep.equal({ status: 400, detail: `input 'data' must be a file: {"value": BASE64, "mediaType": TYPE} or {"href": "https://…"}` });
    expect(runs()).to.equal(before);
  });

  const refusedCases: [string, () => unknown, (id: string) => string][] = [
    ['loopback that is not allowlisted', () => ({ href: `http://127.0.0.1:${webPort}/dem.tif` }), () => `http://127.0.0.1:${webPort}/dem.tif resolves to 127.0.0.1, ${FORBIDDEN}`],
    ['the cloud metadata address', () => ({ href: 'http://169.254.169.254/latest/meta-data/' }), () => `http://169.254.169.254/latest/meta-data/ resolves to 169.254.169.254, ${FORBIDDEN}`],
    [
      'a redirect to a private address',
      () => {
        served['/moved'] = [302, { location: `http://127.0.0.2:${webPort}/dem.tif` }, ''];
        return { href: local('/moved') };
      },
      () => `http://127.0.0.2:${webPort}/dem.tif resolves to 127.0.0.2, ${FORBIDDEN}`,
    ],
    [
      'a file over --max-fetch-bytes',
      () => {
        served['/big.tif'] = [200, { 'content-type': 'image/tiff' }, randomBytes(MAX_FETCH_BYTES + 1)];
        return { href: local('/big.tif') };
      },
      () => `${local('/big.tif')} is larger than the limit of ${MAX_FETCH_BYTES} bytes (--max-fetch-bytes)`,
    ],
    [
      'a file of a media type the input does not accept',
      () => {
        served['/page'] = [200, { 'content-type': 'text/html' }, '<html></html>'];
        return { href: local('/page') };
      },
      () => `${local('/page')} is text/html, which the input does not accept; it accepts application/octet-stream, text/plain, image/tiff`,
    ],
    ['a server that never answers', () => ({ href: local('/never') }), () => `${local('/never')} did not arrive within ${FETCH_TIMEOUT_MS / 1000} s`],
  ];
  for (const [what, input, reason] of refusedCases) {
    it(`fails the job, running nothing, for ${what}`, async function () {
      const before = runs();
      const { status, detail } = await failure(input());
      expect(status).to.equal(400);
      expect(detail).to.match(/^job '[^']+' failed \(input\): /);
      expect(detail.replace(/^job '[^']+' failed \(input\): /, '')).to.equal(`input 'data': ${reason('')}`);
      expect(runs()).to.equal(before);
    });
  }
});
