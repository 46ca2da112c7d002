import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, TEST_POOL, type Cluster } from '../helpers/cluster.js';
import { spec } from '../helpers/http-harness.js';
import { connectRawAgent, type RawAgent } from '../helpers/raw-agent.js';

/** Security first (docs/security.md): what one agent account can do to the service. */
describe('a hostile agent account cannot crash, hang or hijack the service', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  let rogue: RawAgent;

  const url = () => cluster.orchestrator.url;
  const execute = (processId: string, inputs: unknown, prefer?: string) =>
    cluster.api(`${url()}/processes/${processId}/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(prefer ? { prefer } : {}) },
      body: JSON.stringify({ inputs }),
    });
  const rawAgent = async (name: string, pool?: string) => {
    const { password } = await cluster.addAccount(name, pool);
    const { prosody } = cluster.server;
    return connectRawAgent({ service: prosody.clientService, domain: prosody.domain, orchestrator: prosody.componentDomain, name, password });
  };

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'echo.properties'), 'service = echo\ntitle = Echo\nexecutable = /bin/echo\nargformat = positional\ninputs = { "text": { "type": "string" } }\noutputs = { "out": { "type": "string", "from": "stdout" } }\n');
    await writeFile(path.join(servicesDir, 'big.properties'), 'service = big\nexecutable = /bin/true\ninputs = { "text": { "type": "string", "maxLength": 100000 } }\n');
    await cluster.addAgent('good', servicesDir);
    rogue = await rawAgent('rogue');
  });
  after(async function () {
    await rogue?.stop();
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  it('keeps serving when its own job is answered with a value nested 20,000 deep', async function () {
    await rogue.announce([spec('trap')]);
    await eventually(() => cluster.orchestrator.registry.process('trap'), 5000, 'trap offered');
    const response = await execute('trap', {}, 'respond-async');
    expect(response.status).to.equal(201);
    const { job } = await rogue.next('execute');
    await rogue.sendBody(JSON.stringify({ v: 1, type: 'accepted', job, seq: 1 }));
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    await rogue.sendBody(`{"v":1,"type":"completed","job":"${job}","seq":2,"outputs":{"out":{"value":${deep}}}}`);
    const refusal = await rogue.next('error');
    expect(refusal).to.deep.include({ code: 'invalid-message', message: 'body nests objects and arrays deeper than 32 levels' });
    expect((await fetch(`${url()}/healthz`)).status).to.equal(200);
    const status = (await (await cluster.api(`${url()}/jobs/${job}`)).json()) as { status: string };
    expect(status.status).to.equal('running');
  });

  it('cannot take over a process another pool offers: its offer is refused and reported', async function () {
    await rogue.announce([spec('echo', { version: '99.0.0', title: 'Forged', inputs: { text: { type: 'string' } } })]);
    const refused = await eventually(async () => {
      const body = (await (await cluster.adminApi(`${url()}/admin/agents`)).json()) as { refused: unknown[] };
      return body.refused.length > 0 ? body.refused : undefined;
    }, 5000, 'refused offer listed');
    expect(refused).to.deep.equal([{ process: 'echo', owner: TEST_POOL, jid: rogue.jid, pool: 'rogue' }]);
    const description = (await (await fetch(`${url()}/processes/echo`)).json()) as { title: string; version: string };
    expect(description).to.include({ title: 'Echo', version: '1.0.0' });
    for (let i = 0; i < 3; i++) {
      const response = await execute('echo', { text: `secret ${i}` });
      expect(response.status).to.equal(200);
      expect((await response.text()).trim()).to.equal(`secret ${i}`);
    }
  });

  it('refuses an account of the same server that was never provisioned as an agent', async function () {
    const { password } = await cluster.server.addAccount('stranger');
    const { prosody } = cluster.server;
    const stranger = await connectRawAgent({ service: prosody.clientService, domain: prosody.domain, orchestrator: prosody.componentDomain, name: 'stranger', password });
    try {
      await stranger.announce([spec('loot')]);
      expect(await stranger.next('error')).to.deep.include({ code: 'not-allowed', message: `stranger@${prosody.domain} is not an allowed agent` });
      expect(cluster.orchestrator.registry.agents().map((a) => a.jid)).to.not.include(stranger.jid);
      expect(cluster.orchestrator.registry.process('loot')).to.equal(undefined);
    } finally {
      await stranger.stop();
    }
  });

  it('refuses an input beyond the default length at once with a 400 that names the limit', async function () {
    const started = Date.now();
    const response = await execute('echo', { text: 'x'.repeat(70_000) });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { detail: string }).detail).to.equal("input 'text' must be at most 16384 characters long");
    const whole = await execute('big', { text: 'x'.repeat(70_000) });
    expect(whole.status).to.equal(400);
    expect(((await whole.json()) as { detail: string }).detail).to.equal('inputs take 70011 bytes as JSON, over the limit of 61440 bytes for one execution');
    expect((await fetch(`${url()}/healthz`)).status).to.equal(200);
    expect(Date.now() - started).to.be.below(5000);
    expect((await (await cluster.api(`${url()}/jobs`)).json() as { jobs: { processID: string }[] }).jobs.map((j) => j.processID)).to.not.include('big');
  });

  it('fails a stored job whose execute cannot be sent once, with its cause, and starts normally', async function () {
    const { jobStore: store } = cluster.orchestrator;
    const now = new Date().toISOString();
    store.create({
      id: 'stored-oversize', processId: 'big', status: 'accepted', owner: 'alice', agent: null, inputs: { text: 'x'.repeat(70_000) },
      execution: { response: 'document' }, progress: 0, message: null, created: now, started: null, finished: null, updated: now,
      results: null, error: null, lastSeq: 0, dismissedBy: null,
    });
    const orchestrator = await cluster.restartOrchestrator();
    const failed = await eventually(() => {
      const job = orchestrator.jobStore.get('stored-oversize');
      return job?.status === 'failed' ? job : undefined;
    }, 10_000, 'stored job failed');
    // The size depends on the upload URL, whose port changes from run to run.
    expect(failed.error?.code).to.equal('undeliverable');
    expect(failed.error?.message).to.match(/^the execute message would be 70\d{3} bytes, over the limit of 65536 bytes$/);
    expect((await fetch(`${orchestrator.url}/healthz`)).status).to.equal(200);
    const response = await execute('echo', { text: 'still serving' });
    expect((await response.text()).trim()).to.equal('still serving');
  });
});
