import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { capturingLogger } from '../helpers/logger.js';
import { rawAccount } from '../helpers/raw-xmpp.js';

const FLOOD = 5000;
const LIMIT = { perWindow: 10, windowMs: 2000 };

describe('fabric: a flood of invalid stanzas from one account', function () {
  let cluster: Cluster;
  let raw: Client;
  let servicesDir: string;
  const { logger, lines } = capturingLogger();

  before(async function () {
    cluster = await startCluster({ logger, tuning: { invalidStanzaLimit: LIMIT } });
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

  it('logs and answers only the first of each window, sums up the rest, and keeps serving', async function () {
    this.timeout(60_000);
    const orchestrator = cluster.server.prosody.componentDomain;
    const errors: Element[] = [];
    const acked = new Promise<void>((resolve) =>
      raw.on('stanza', (stanza: Element) => {
        if (stanza.attrs['type'] === 'error') errors.push(stanza);
        else if (stanza.getChildText('body')?.includes('"ack"')) resolve();
      }),
    );
    const before = lines.length;
    const started = Date.now();
    for (let i = 0; i < FLOOD; i++) await raw.send(xml('message', { to: orchestrator }, xml('body', {}, `not json ${i}`)));
    // Stanzas are handled in order: once this one is acked, every invalid one before it was seen.
    await raw.send(xml('message', { to: orchestrator }, xml('body', {}, JSON.stringify({ v: 1, type: 'completed', job: 'no-such-job', seq: 1, outputs: {} }))));
    await acked;
    const windows = Math.ceil((Date.now() - started) / LIMIT.windowMs) + 1;

    const fromRogue = () => lines.slice(before).filter((line) => String(line['from']).startsWith('rogue@'));
    const logged = fromRogue().filter((line) => line['msg'] === 'invalid message from agent');
    expect(logged.length).to.be.within(LIMIT.perWindow, LIMIT.perWindow * windows);
    expect(errors.length).to.equal(logged.length);
    expect(JSON.parse(errors[0]!.getChildText('body')!)).to.deep.include({ type: 'error', code: 'invalid-message' });

    // Each window that dropped stanzas ends with one line saying how many; together they account for all.
    const suppressed = () => fromRogue().filter((line) => line['msg'] === 'invalid stanzas suppressed');
    await eventually(
      () => (logged.length + suppressed().reduce((sum, line) => sum + Number(line['suppressed']), 0) === FLOOD ? true : undefined),
      LIMIT.windowMs * 3,
      'summaries of every window',
    );
    expect(suppressed().length).to.be.at.most(windows);
    expect(suppressed()[0]).to.deep.include({ level: 40, windowMs: LIMIT.windowMs });
    expect(lines.length - before).to.be.below(LIMIT.perWindow * windows + windows + 20);

    const list = (await (await cluster.api(`${cluster.orchestrator.url}/processes`)).json()) as { processes: { id: string }[] };
    expect(list.processes.map((p) => p.id)).to.deep.equal(['noop']);
    const response = await cluster.api(`${cluster.orchestrator.url}/processes/noop/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).to.equal(200);
  });
});
