import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ProcessSpec } from '../../protocol/index.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { capturingLogger } from '../helpers/logger.js';
import { connectRawAgent, type RawAgent } from '../helpers/raw-agent.js';

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
  let raw: RawAgent;
  let servicesDir: string;
  const { logger, lines: logged } = capturingLogger();

  before(async function () {
    cluster = await startCluster({ logger });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'noop.properties'), 'service = noop\nexecutable = /bin/true\n');
    await writeFile(
      path.join(servicesDir, 'strict.properties'),
      'service = strict\nexecutable = /bin/true\ninputs = {"name": {"type": "string", "pattern": "^(?!tmp)"}}\n',
    );
    await cluster.addAgent('good', servicesDir);

    // An agent account that speaks the protocol by hand (docs/protocol.md §2, §4.1.1).
    const { password } = await cluster.addAccount('rogue');
    const { prosody } = cluster.server;
    raw = await connectRawAgent({ service: prosody.clientService, domain: prosody.domain, orchestrator: prosody.componentDomain, name: 'rogue', password });
    await raw.announce([withPattern('evil', '^(a+)+$'), withPattern('backref', '^(a)\\1$'), withPattern('ahead', '^(?=a)')], 'rogue-1');
    await eventually(() => (cluster.orchestrator.registry.agent(rogueJid())?.catalogHash === 'rogue-1' ? true : undefined), 5000, 'rogue catalog');
  });
  after(async function () {
    await raw?.stop();
    await cluster?.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const rogueJid = () => raw.jid;
  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const execute = (process: string, inputs: unknown) =>
    cluster.api(url(`/processes/${process}/execution`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
  const jobCount = () => cluster.orchestrator.jobStore.list({ limit: 1000, offset: 0 }).jobs.length;
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
