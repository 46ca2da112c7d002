import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.js';
import { examplesDir } from '../helpers/examples.js';

interface Received {
  path: string;
  at: number;
  body: { status?: string; progress?: number; [key: string]: unknown };
}

/** A subscriber's HTTP server: records every POST and answers as told. */
async function startReceiver() {
  const received: Received[] = [];
  const state = { failNext: 0, redirectTo: undefined as string | undefined };
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      if (state.failNext > 0) {
        state.failNext -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push({ path: req.url ?? '', at: Date.now(), body: JSON.parse(text) as Received['body'] });
      if (state.redirectTo && req.url === '/moved') res.writeHead(302, { location: state.redirectTo }).end();
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** OGC 18-062r2 callback class: the POSTs an execute request's `subscriber` asks for. */
describe('callbacks to a subscriber', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async function () {
    receiver = await startReceiver();
    cluster = await startCluster({ callbackAllow: '127.0.0.1', tuning: { callbackBackoff: { initialMs: 200, maxMs: 400 } } });
    await cluster.addAgent('worker', examplesDir);
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.state.failNext = 0;
  });
  after(async function () {
    await cluster.stop();
    await receiver.close();
  });

  const submit = (processId: string, inputs: unknown, subscriber: Record<string, string>) =>
    cluster.api(`${cluster.orchestrator.url}/processes/${processId}/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs, subscriber }),
    });
  const deliveredTo = (path: string) => () => (receiver.received.some((r) => r.path === path) ? true : undefined);

  it('posts progress at most once a second, then the results document, in that order', async function () {
    const response = await submit('slow', { steps: 5, interval: 0.4 }, { inProgressUri: `${receiver.base}/progress`, successUri: `${receiver.base}/done` });
    expect(response.status).to.equal(201);
    const { jobID } = (await response.json()) as { jobID: string };
    await eventually(deliveredTo('/done'), 15_000, 'success callback');
    const paths = receiver.received.map((r) => r.path);
    expect(paths.at(-1)).to.equal('/done');
    const progress = receiver.received.filter((r) => r.path === '/progress');
    expect(progress.length).to.be.at.least(1);
    for (const r of progress) expect(r.body).to.include({ jobID, status: 'running' });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).to.be.at.least(900);
    expect(receiver.received.at(-1)!.body).to.deep.equal({ result: { steps: 5 } });
  });

  it('posts the status of a failed job to failedUri', async function () {
    const response = await submit('fail', {}, { failedUri: `${receiver.base}/failed`, successUri: `${receiver.base}/done` });
    const { jobID } = (await response.json()) as { jobID: string };
    await eventually(deliveredTo('/failed'), 10_000, 'failure callback');
    expect(receiver.received.map((r) => r.path)).to.deep.equal(['/failed']);
    expect(receiver.received[0]!.body).to.include({ jobID, status: 'failed' });
  });

  it('retries a delivery the subscriber refused twice', async function () {
    receiver.state.failNext = 2;
    await submit('noop', {}, { successUri: `${receiver.base}/after-retries` });
    await eventually(deliveredTo('/after-retries'), 10_000, 'delivery after two refusals');
    expect(receiver.state.failNext).to.equal(0);
  });

  it('keeps a delivery across an orchestrator restart', async function () {
    receiver.state.failNext = 1_000;
    await submit('noop', {}, { successUri: `${receiver.base}/after-restart` });
    await eventually(() => (cluster.orchestrator.jobStore.list({ limit: 100, offset: 0 }).jobs.some((j) => j.status === 'successful' && j.execution.subscriber?.successUri?.endsWith('/after-restart')) ? true : undefined), 10_000, 'job done');
    await cluster.restartOrchestrator();
    receiver.state.failNext = 0;
    await eventually(deliveredTo('/after-restart'), 10_000, 'delivery after the restart');
  });

  it('does not follow a redirect', async function () {
    const elsewhere = await startReceiver();
    try {
      receiver.state.redirectTo = `${elsewhere.base}/stolen`;
      await submit('noop', {}, { successUri: `${receiver.base}/moved` });
      await eventually(deliveredTo('/moved'), 10_000, 'the redirecting delivery');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(elsewhere.received).to.deep.equal([]);
      expect(receiver.received.filter((r) => r.path === '/moved')).to.have.length(1);
    } finally {
      receiver.state.redirectTo = undefined;
      await elsewhere.close();
    }
  });

  it('refuses subscriber URIs that point inside with a 400 naming the reason, before any job exists', async function () {
    const before = cluster.orchestrator.jobStore.list({ limit: 1000, offset: 0 }).jobs.length;
    for (const [uri, reason] of [
      ['http://169.254.169.254/latest/meta-data', 'resolves to 169.254.169.254, a loopback, private, link-local or reserved address; callbacks go there only when --callback-allow lists it'],
      ['http://10.1.2.3:8080/hook', 'resolves to 10.1.2.3, a loopback, private, link-local or reserved address; callbacks go there only when --callback-allow lists it'],
      ['http://[::1]:9/hook', 'resolves to ::1, a loopback, private, link-local or reserved address; callbacks go there only when --callback-allow lists it'],
      ['ftp://example.org/hook', 'must be an http or https URL, not ftp:'],
      ['http://no-such-host.invalid/hook', "names host 'no-such-host.invalid', which cannot be resolved"],
    ] as const) {
      const response = await submit('noop', {}, { successUri: uri });
      expect(response.status).to.equal(400);
      expect(((await response.json()) as { detail: string }).detail).to.equal(`'subscriber.successUri' ${uri} ${reason}`);
    }
    expect(cluster.orchestrator.jobStore.list({ limit: 1000, offset: 0 }).jobs.length).to.equal(before);
  });
});
