import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeliveryError, deliverOutputs, type DeliveryOptions } from '../../agent/jobs/upload-outputs.js';
import type { LocalOutputValue } from '../../agent/runner/run-types.js';
import { certificateFingerprint, ensureDevCertificate } from '../../dev/tls-certificate.js';
import { testLogger } from '../helpers/logger.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const WRONG_PIN = 'cd'.repeat(32);
const specs = { data: { type: 'file', from: { kind: 'file', path: 'data.bin' } } } as const;

describe('deliverOutputs: whom an upload trusts', () => {
  let dir: string;
  let server: https.Server;
  let base: string;
  let pin: string;
  let received: { url: string; authorization: string | undefined }[];
  let output: LocalOutputValue;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-upload-tls-'));
    const { certFile, keyFile } = await ensureDevCertificate(dir, ['outpost.test', 'localhost', '127.0.0.1']);
    pin = certificateFingerprint(certFile);
    server = https.createServer({ cert: await readFile(certFile), key: await readFile(keyFile) }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ url: request.url!, authorization: request.headers.authorization });
        const body = Buffer.concat(chunks);
        response.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ href: '/jobs/j1/results/data', size: body.length, sha256: sha256(body) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await writeFile(path.join(dir, 'data.bin'), 'file bytes');
    output = { kind: 'file', path: path.join(dir, 'data.bin'), size: 10 };
  });
  beforeEach(() => (received = []));
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const options = (fields: Partial<DeliveryOptions>): DeliveryOptions => ({
    upload: { url: `${base}/uploads/j1`, token: 'secret' },
    signal: new AbortController().signal,
    logger: testLogger,
    retryDelaysMs: [1, 1],
    ...fields,
  });
  async function failure(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(() => undefined, (err: Error) => err);
    expect(error).to.be.instanceOf(DeliveryError);
    return (error as Error).message;
  }

  it('uploads over HTTPS to the certificate it pins', async () => {
    const delivered = await deliverOutputs({ data: output }, specs, options({ trust: { fingerprints: [pin.replace(/:/g, '')] } }));
    expect(delivered['data']).to.deep.equal({ href: '/jobs/j1/results/data', mediaType: 'application/octet-stream', size: 10, sha256: sha256('file bytes') });
    expect(received).to.deep.equal([{ url: '/uploads/j1/data', authorization: 'Bearer secret' }]);
  });

  it('sends neither token nor output to another certificate, and does not retry', async () => {
    const message = await failure(deliverOutputs({ data: output }, specs, options({ trust: { fingerprints: [WRONG_PIN.toUpperCase()] } })));
    const pinned = WRONG_PIN.toUpperCase().match(/../g)!.join(':');
    expect(message).to.equal(`output 'data' could not be uploaded to ${base}/uploads/j1/data: the server's certificate has fingerprint ${pin}, not the pinned ${pinned}`);
    expect(received).to.deep.equal([]);
  });

  it('refuses a certificate that no trusted CA vouches for when nothing is pinned', async () => {
    const message = await failure(deliverOutputs({ data: output }, specs, options({ trust: {} })));
    expect(message).to.match(/: the server's certificate is not trusted \(self[- ]signed certificate\); pin it with --server-fingerprint or name its CA with --ca-file$/);
    expect(received).to.deep.equal([]);
  });

  it('refuses plain HTTP to a host that is not loopback unless insecure, before connecting', async () => {
    const url = 'http://10.213.0.1:9/uploads/j1';
    const message = await failure(deliverOutputs({ data: output }, specs, options({ upload: { url, token: 'secret' } })));
    expect(message).to.equal(
      `output 'data' could not be uploaded to ${url}/data: the output and its upload token to 10.213.0.1 would travel in plain text; give the server TLS, or start the agent with --insecure to allow it`,
    );
  });
});
