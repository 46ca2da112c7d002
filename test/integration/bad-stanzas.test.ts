import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { AGENT_NS } from '../../protocol/index.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { rawAccount } from '../helpers/raw-xmpp.js';

describe('fabric: malformed stanzas and bodies from an agent', function () {
  let cluster: Cluster;
  let raw: Client;
  let servicesDir: string;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'noop.properties'), 'service = noop\nexecutable = /bin/true\n');
    await cluster.addAgent('good', servicesDir);
    raw = await rawAccount(cluster, 'rogue');
  });
  after(async function () {
    await raw?.stop();
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  /** Sends a stanza to the orchestrator and returns the error message it answers with. */
  async function answerTo(stanza: Element): Promise<{ json: { type: string; code: string; message: string }; condition: string | undefined }> {
    const reply = new Promise<Element>((resolve) => {
      const onStanza = (s: Element) => {
        if (!s.is('message')) return;
        raw.off('stanza', onStanza);
        resolve(s);
      };
      raw.on('stanza', onStanza);
    });
    await raw.send(stanza);
    const message = await reply;
    const error = message.getChild('error');
    return { json: JSON.parse(message.getChildText('body') ?? 'null'), condition: error?.children.map((c) => (c as Element).name).find((n) => n !== 'text') };
  }

  const orchestrator = () => cluster.server.prosody.componentDomain;
  const body = (text: string) => xml('message', { to: orchestrator() }, xml('body', {}, text));

  async function expectNothingChanged(): Promise<void> {
    expect(cluster.orchestrator.registry.agents().map((a) => a.jid)).to.deep.equal(['good@outpost.test/agent']);
    const list = (await (await cluster.api(`${cluster.orchestrator.url}/processes`)).json()) as { processes: { id: string }[] };
    expect(list.processes.map((p) => p.id)).to.deep.equal(['noop']);
    const jobs = (await (await cluster.api(`${cluster.orchestrator.url}/jobs`)).json()) as { jobs: unknown[] };
    expect(jobs.jobs).to.deep.equal([]);
  }

  it('answers a body that is not JSON with bad-request and a JSON error', async function () {
    const answer = await answerTo(body('hello, orchestrator'));
    expect(answer.condition).to.equal('bad-request');
    expect(answer.json.type).to.equal('error');
    expect(answer.json.code).to.equal('invalid-message');
    expect(answer.json.message).to.match(/^body is not JSON: /);
    await expectNothingChanged();
  });

  it('names the first schema violation of a known message type', async function () {
    const answer = await answerTo(body(JSON.stringify({ v: 1, type: 'catalog', hash: 'h', part: 1, parts: 1, processes: [{ id: 'x y' }], invalid: [] })));
    expect(answer.json.message).to.equal("catalog: /processes/0 must have required property 'keywords'");
    await expectNothingChanged();
  });

  it('refuses unknown types, other protocol versions and oversized bodies', async function () {
    expect((await answerTo(body('{"v":1,"type":"launch-missiles"}'))).json.message).to.equal("unknown message type 'launch-missiles'");
    expect((await answerTo(body('{"v":2,"type":"accepted","job":"a","seq":1}'))).json.message).to.equal('unsupported protocol version 2 (expected 1)');
    expect((await answerTo(body(JSON.stringify({ v: 1, type: 'jobs', jobs: [], pad: 'x'.repeat(70_000) })))).json.message).to.equal('body exceeds 65536 bytes');
    await expectNothingChanged();
  });

  it('answers a presence with an invalid load element and does not register the agent', async function () {
    const answer = await answerTo(xml('presence', { to: orchestrator() }, xml('agent', { xmlns: AGENT_NS, v: '1', catalog: 'h', slots: '0', running: '0', load1: '0', cores: '2', 'mem-free': '1' })));
    expect(answer.json).to.deep.include({ type: 'error', code: 'invalid-message', message: "presence: 'slots' must be a positive integer" });
    await expectNothingChanged();
  });

  it('ignores events for jobs that do not exist, and keeps serving', async function () {
    await raw.send(body(JSON.stringify({ v: 1, type: 'completed', job: 'no-such-job', seq: 2, outputs: {} })));
    const [ack] = await once(raw, 'stanza');
    expect(JSON.parse((ack as Element).getChildText('body') ?? '')).to.deep.equal({ v: 1, type: 'ack', job: 'no-such-job', seq: 2 });
    await expectNothingChanged();
  });
});
