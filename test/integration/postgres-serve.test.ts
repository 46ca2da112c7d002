import { expect } from 'chai';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { withToken } from '../helpers/api.js';
import { eventually } from '../helpers/cluster.js';
import { expectEachEchoedOnce, finalJobs, holdRuns, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { postgresOrSkip, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

/** `outpost serve --database postgres://…` with a real agent, on a private PostgreSQL and Prosody. */
describe('outpost serve with its jobs in PostgreSQL', function () {
  this.timeout(60_000);
  let postgres: TestPostgres | undefined;
  let server: TestProsody | undefined;
  let databaseUrl: string;
  let dataDir: string;
  let servicesDir: string;
  let runsFile: string;
  let orchestrator: OrchestratorProcess | undefined;
  let agent: AgentProcess | undefined;
  let api: typeof fetch;
  const inputs = new Map<string, string>();

  before(async function () {
    postgres = postgresOrSkip(this, await startTestPostgres());
    server = await startTestProsody();
    databaseUrl = await postgres.createDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-data-'));
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    runsFile = path.join(servicesDir, 'runs');
    await writeCountedEcho(servicesDir, runsFile);
    await writeScript(servicesDir, 'bin/report.sh', `mkdir -p out && printf 'report on %s' "$1" > out/report.txt`);
    const outputs = { report: { type: 'file', from: 'file:out/report.txt', mediaType: 'text/plain' } };
    await writeProperties(servicesDir, 'report.properties', { service: 'report', executable: 'bin/report.sh', argformat: 'positional', inputs: '{"subject": {"type": "string"}}', outputs: JSON.stringify(outputs) });
    orchestrator = await startOrchestratorProcess(server.prosody, dataDir, ['--database', databaseUrl, '--agent-grace', '20']);
    const [token, { jid, password }] = await Promise.all([orchestrator.cli('token', 'create', '--user', 'carol', '--database', databaseUrl), server.addAccount('worker')]);
    await orchestrator.cli('agent', 'add', jid, '--pool', 'fleet', '--database', databaseUrl);
    agent = spawnAgent({ server: server.prosody.clientService, jid: `${jid}/agent`, password, services: servicesDir, workDir: path.join(dataDir, 'agent'), slots: 4 });
    api = withToken(token);
    await eventually(async () => ((await api(`${orchestrator!.url}/processes/counted`)).ok ? true : undefined), 20_000, 'the agent offers its process');
  });
  after(async () => {
    await agent?.crash();
    await orchestrator?.crash();
    await server?.stop();
    await postgres?.stop();
    await Promise.all([dataDir, servicesDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const queryPostgres = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
    const client = new pg.Client(databaseUrl);
    await client.connect();
    return (await client.query<R>(sql, params).finally(() => client.end())).rows;
  };
  const submit = async (echo: string) => inputs.set(await submitCounted(api, orchestrator!.url, echo, 0.1), echo);
  const unfinished = async () => {
    const listed = (await (await api(`${orchestrator!.url}/jobs?limit=1000`)).json()) as { jobs: { status: string }[] };
    return listed.jobs.filter((job) => job.status === 'accepted' || job.status === 'running').length;
  };

  it('runs jobs end to end, keeping them in PostgreSQL and none in SQLite', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, n) => submit(`first-${n}`)));
    await eventually(async () => ((await unfinished()) === 0 ? true : undefined), 20_000, 'every job finished');
    await expectEachEchoedOnce(await finalJobs(api, orchestrator!.url, inputs.keys()), inputs, runsFile);

    const stored = await queryPostgres<{ id: string; status: string }>('SELECT id, status FROM jobs ORDER BY id');
    expect(stored).to.deep.equal([...inputs.keys()].sort().map((id) => ({ id, status: 'successful' })));
    const sqlite = new BetterSqlite3(path.join(dataDir, 'outpost.db'), { readonly: true });
    try {
      expect(sqlite.prepare('SELECT count(*) AS jobs FROM jobs').get()).to.deep.equal({ jobs: 0 });
    } finally {
      sqlite.close();
    }
  });

  it("takes a file output uploaded with the job's token, whose digest PostgreSQL keeps", async () => {
    const o = orchestrator!;
    const response = await api(`${o.url}/processes/report/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { subject: 'tides' } }),
    });
    expect(response.status, await response.clone().text()).to.equal(201);
    const jobUrl = response.headers.get('location')!;
    await eventually(async () => ((await (await api(jobUrl)).json()) as { status: string }).status === 'successful' || undefined, 20_000, 'the report job succeeded');
    expect(await (await api(`${jobUrl}/results/report`)).text()).to.equal('report on tides');
    const kept = await queryPostgres('SELECT length(upload_token_hash) AS bytes FROM jobs WHERE id = $1', [jobUrl.split('/').pop()]);
    expect(kept).to.deep.equal([{ bytes: 32 }]);
  });

  it('survives a kill -9 mid-run: after a restart every job finishes once, with its own result', async () => {
    const o = orchestrator!;
    const release = await holdRuns(runsFile);
    await Promise.all(Array.from({ length: 4 }, (_, n) => submit(`running-${n}`)));
    await eventually(async () => ((await runsOf(runsFile)).size === inputs.size ? true : undefined), 10_000, 'the agent runs the new jobs');
    await Promise.all(Array.from({ length: 4 }, (_, n) => submit(`waiting-${n}`)));
    await o.crash();
    await release();

    await o.restart();
    await eventually(async () => ((await unfinished()) === 0 ? true : undefined), 30_000, 'every job finished after the restart');
    await expectEachEchoedOnce(await finalJobs(api, o.url, inputs.keys()), inputs, runsFile);
  });
});
