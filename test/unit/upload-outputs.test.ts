import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DeliveryError, deliverOutputs, type DeliveryOptions } from '../../agent/jobs/upload-outputs.js';
import type { LocalOutputValue } from '../../agent/runner/run-types.js';
import type { LocalOutputSpec } from '../../agent/services/service-definition.js';
import { testLogger } from '../helpers/logger.js';
import { useTempDir } from '../helpers/temp-services.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
type Answer = (received: Received) => { status: number; body: unknown };

/** Stores like the orchestrator does: answers with the href, size and SHA-256 of what arrived. */
const store: Answer = ({ url, body }) => ({ status: 201, body: { href: url.replace('/uploads/j1/', '/jobs/j1/results/'), size: body.length, sha256: sha256(body) } });
const refuse = (status: number, detail: string): Answer => () => ({ status, body: { status, detail } });

const specs: Record<string, LocalOutputSpec> = {
  data: { type: 'file', from: { kind: 'file', path: 'out/data.bin' } },
  log: { type: 'string', from: { kind: 'stdout' } },
  table: { type: 'json', from: { kind: 'file', path: 'table.json' } },
};

describe('deliverOutputs', () => {
  const dir = useTempDir();
  let server: http.Server;
  let base: string;
  let received: Received[];
  let answers: Answer[];

  beforeEach(async () => {
    received = [];
    answers = [];
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const got = { url: request.url!, headers: request.headers, body: Buffer.concat(chunks) };
        received.push(got);
        const { status, body } = (answers.shift() ?? store)(got);
        response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  const options = (fields: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
    upload: { url: `${base}/uploads/j1`, token: 'secret' },
    signal: new AbortController().signal,
    logger: testLogger,
    retryDelaysMs: [1, 1],
    ...fields,
  });
  async function fileOutput(content: string | Buffer, mediaType?: string): Promise<LocalOutputValue> {
    const file = path.join(dir(), 'data.bin');
    await writeFile(file, content);
    return { kind: 'file', path: file, size: Buffer.byteLength(content), ...(mediaType ? { mediaType } : {}) };
  }
  async function failure(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(() => undefined, (err: Error) => err);
    expect(error).to.be.instanceOf(DeliveryError);
    return (error as Error).message;
  }

  it('uploads a file with the job’s token and reports the reference; values stay inline, in order', async () => {
    const outputs = { log: { kind: 'value', value: 'done' } as const, data: await fileOutput('file bytes', 'image/png') };
    const delivered = await deliverOutputs(outputs, specs, options());
    expect(delivered).to.deep.equal({
      log: { value: 'done' },
      data: { href: '/jobs/j1/results/data', mediaType: 'image/png', size: 10, sha256: sha256('file bytes') },
    });
    expect(Object.keys(delivered)).to.deep.equal(['log', 'data']);
    expect(received).to.have.length(1);
    expect(received[0]!.url).to.equal('/uploads/j1/data');
    expect(received[0]!.headers).to.include({ authorization: 'Bearer secret', 'content-type': 'image/png', 'content-length': '10' });
    expect(received[0]!.body.toString()).to.equal('file bytes');
  });

  it('retries a 5xx answer and a stored copy that differs from what was sent', async () => {
    answers.push(refuse(503, 'busy'), () => ({ status: 201, body: { href: '/x', size: 10, sha256: sha256('other') } }));
    const delivered = await deliverOutputs({ data: await fileOutput('file bytes') }, specs, options());
    expect(delivered['data']).to.deep.equal({ href: '/jobs/j1/results/data', mediaType: 'application/octet-stream', size: 10, sha256: sha256('file bytes') });
    expect(received).to.have.length(3);
  });

  it('gives up on a refusal at once, with the orchestrator’s reason', async () => {
    answers.push(refuse(403, "the upload token is not valid for job 'j1'"));
    const message = await failure(deliverOutputs({ data: await fileOutput('x') }, specs, options()));
    expect(message).to.equal(`output 'data' could not be uploaded to ${base}/uploads/j1/data: HTTP 403: the upload token is not valid for job 'j1'`);
    expect(received).to.have.length(1);
  });

  it('gives up after the last retry when the orchestrator cannot be reached', async () => {
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/uploads/j1`;
    await new Promise((resolve) => gone.close(resolve));
    const message = await failure(deliverOutputs({ data: await fileOutput('x') }, specs, options({ upload: { url: closed, token: 't' } })));
    expect(message).to.match(new RegExp(`^output 'data' could not be uploaded to ${closed}/data \\(3 attempts\\): fetch failed \\(.*ECONNREFUSED.*\\)$`));
  });

  it('uploads the largest values until the rest fits a message body', async () => {
    const big = 'b'.repeat(70 * 1024);
    const table = { rows: 'r'.repeat(40 * 1024) };
    const outputs = { log: { kind: 'value', value: big } as const, table: { kind: 'value', value: table } as const };
    const delivered = await deliverOutputs(outputs, specs, options());
    expect(delivered).to.deep.equal({
      log: { href: '/jobs/j1/results/log', mediaType: 'text/plain; charset=utf-8', size: big.length, sha256: sha256(big) },
      table: { value: table },
    });
    expect(received.map((r) => [r.url, r.headers['content-type']])).to.deep.equal([['/uploads/j1/log', 'text/plain; charset=utf-8']]);
  });

  it('sends a JSON value as application/json', async () => {
    const table = { rows: 'r'.repeat(70 * 1024) };
    const delivered = await deliverOutputs({ table: { kind: 'value', value: table } }, specs, options());
    expect(delivered['table']).to.include({ mediaType: 'application/json', sha256: sha256(JSON.stringify(table)) });
  });

  it('fails without an upload URL for a file, or for values too large for the body', async () => {
    const withoutUpload = options({ upload: undefined });
    expect(await failure(deliverOutputs({ data: await fileOutput('x') }, specs, withoutUpload))).to.equal(
      "output 'data' must be uploaded, but the orchestrator gave no upload URL",
    );
    const big = 'b'.repeat(70 * 1024);
    expect(await failure(deliverOutputs({ log: { kind: 'value', value: big } }, specs, withoutUpload))).to.equal(
      `outputs of ${JSON.stringify({ log: { value: big } }).length} bytes are too large to send inline (limit 61440) and the orchestrator gave no upload URL`,
    );
    expect(received).to.deep.equal([]);
  });

  it('stops retrying when the job is killed', async () => {
    const kill = new AbortController();
    answers.push((got) => {
      kill.abort();
      return refuse(503, 'busy')(got);
    });
    const outcome = await deliverOutputs({ data: await fileOutput('x') }, specs, options({ signal: kill.signal, retryDelaysMs: [10_000] })).catch((err: Error) => err);
    expect((outcome as Error).name).to.equal('AbortError');
    expect(received).to.have.length(1);
  });
});
