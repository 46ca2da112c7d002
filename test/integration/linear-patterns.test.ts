import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { client, xml, type Client } from '@xmpp/client';
import { pino } from 'pino';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import { AGENT_NS, type ProcessSpec } from '../../src/protocol/index.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';

interface Exception {
  type: string;
  detail: string;
}
type AgentList = { agents: { jid: string; invalid: { file: string; reason: string }[] }[] };

const UNSUPPORTED = 'uses a feature the linear-time engine does not support:';

/** A process with one string input `word` constrained by `pattern`, as a catalog carries it. */
function withPattern(id: string, pattern: string): ProcessSpec {
  return { id, keywords: [], version: '1.0.0', inputs: { word: { type: 'string', pattern, required: true } }, outputs: {}, maxParallel: 1, file: `${id}.properties` };
}

describe('patterns from agents run in linear time', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let raw: Client;
  let servicesDir: string;
  const logged: { msg: string; jid?: string; file?: string; reason?: string }[] = [];

  before(async function () {
    const sink = new Writable({
      write(line: Buffer, _encoding, done) {
        logged.push(JSON.parse(line.toString()) as (typeof logged)[number]);
        done();
      },
    });
    cluster = await startCluster({ logger: pino({ level: 'warn' }, sink) });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'noop.properties'), 'service = noop\nexecutable = /bin/true\n');
    await writeFile(
      path.join(servicesDir, 'strict.properties'),
      'service = strict\nexecutable = /bin/true\ninputs = {"name": {"type": "string", "pattern": "^(?!tmp)"}}\n',
    );
    await cluster.addAgent('good', servicesDir);

    // An account of an agent domain that speaks the protocol by hand (docs/protocol.md §2, §4.1.1).
    const { password } = await cluster.server.addAccount('rogue');
    raw = client({ service: cluster.server.prosody.clientService, domain: cluster.server.prosody.domain, username: 'rogue', password, resource: 'x' });
    preferFastScram((raw as unknown as { saslFactory: unknown }).saslFactory);
    await raw.start();
    const to = cluster.server.prosody.componentDomain;
    const load = { xmlns: AGENT_NS, v: '1', catalog: 'rogue-1', slots: '1', running: '0', load1: '0', cores: '1', 'mem-free': '1' };
    await raw.send(xml('presence', { to }, xml('agent', load)));
    const processes = [withPattern('evil', '^(a+)+$'), withPattern('backref', '^(a)\\1$'), withPattern('ahead', '^(?=a)')];
    const catalog = { v: 1, type: 'catalog', hash: 'rogue-1', part: 1, parts: 1, processes, invalid: [] };
    await raw.send(xml('message', { to }, xml('body', {}, JSON.stringify(catalog))));
    await eventually(() => (cluster.orchestrator.registry.agent(rogueJid())?.catalogHash === 'rogue-1' ? true : undefined), 5000, 'rogue catalog');
  });
  after(async function () {
    await raw?.stop();
    await cluster?.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const rogueJid = () => `rogue@${cluster.server.prosody.domain}/x`;
  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const execute = (process: string, inputs: unknown) =>
    cluster.api(url(`/processes/${process}/execution`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
  const jobCount = () => cluster.orchestrator.store.list({ limit: 1000, offset: 0 }).jobs.length;
  const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = Date.now();
    const value = await work();
    return { value, ms: Date.now() - started };
  };

  it('answers a nested-quantifier pattern at once with 400, while /healthz answers promptly', async function () {
    const jobsBefore = jobCount();
    const evilInput = `${'a'.repeat(40)}!`;
    const executed = timed(() => execute('evil', { word: evilInput }));
    const health = timed(() => fetch(url('/healthz')));
    const [{ value: response, ms: executeMs }, { value: healthz, ms: healthMs }] = await Promise.all([executed, health]);

    expect(response.status).to.equal(400);
    expect((await response.json()) as Exception).to.deep.include({ detail: `input 'word' must match pattern "^(a+)+$"` });
    expect(healthz.status).to.equal(200);
    expect(executeMs, 'execute answered').to.be.below(1000);
    expect(healthMs, '/healthz answered').to.be.below(1000);
    expect(jobCount()).to.equal(jobsBefore);
  });

  it('does not offer a process whose pattern RE2 cannot run, and lists it with the agent', async function () {
    const listed = (await (await cluster.api(url('/processes'))).json()) as { processes: { id: string }[] };
    expect(listed.processes.map((p) => p.id)).to.deep.equal(['evil', 'noop']);
    for (const id of ['backref', 'ahead']) {
      const response = await execute(id, { word: 'aa' });
      expect(response.status).to.equal(404);
      expect(((await response.json()) as Exception).detail).to.equal(`process '${id}' is not offered by any agent`);
    }

    const { agents } = (await (await cluster.adminApi(url('/admin/agents'))).json()) as AgentList;
    expect(agents.find((a) => a.jid === rogueJid())?.invalid).to.deep.equal([
      { file: 'backref.properties', reason: `process 'backref': input 'word': pattern ${UNSUPPORTED} backreference \\1` },
      { file: 'ahead.properties', reason: `process 'ahead': input 'word': pattern ${UNSUPPORTED} lookahead (?=…)` },
    ]);
    expect(agents.find((a) => a.jid.startsWith('good@'))?.invalid).to.deep.equal([
      { file: 'strict.properties', reason: `input 'name': pattern ${UNSUPPORTED} lookahead (?!…)` },
    ]);
  });

  it('logs each refused process once, when the catalog arrives', function () {
    const refusals = logged.filter((line) => line.msg === 'process refused: an input pattern cannot be used');
    expect(refusals.map(({ jid, file }) => ({ jid, file }))).to.deep.equal([
      { jid: rogueJid(), file: 'backref.properties' },
      { jid: rogueJid(), file: 'ahead.properties' },
    ]);
  });
});
