import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { withToken } from '../helpers/api.js';
import { eventually } from '../helpers/cluster.js';
import { expectEachEchoedOnce, finalJobs, holdRuns, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';
import { skipWithoutEjabberd, startTestEjabberd, type TestEjabberd } from '../helpers/ejabberd.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { copyExamples } from '../helpers/examples.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { postgresOrSkip, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const run = promisify(execFile);

/**
 * Two `outpost serve` processes on one private PostgreSQL and one private ejabberd node, with one
 * real agent: one dispatches, both answer HTTP, and a `kill -9` of the dispatcher loses nothing.
 */
describe('several orchestrators on one PostgreSQL: one dispatches, every one answers HTTP', function () {
  this.timeout(90_000);
  let postgres: TestPostgres | undefined;
  let fabric: TestEjabberd | undefined;
  let dirs: string[] = [];
  let runsFile: string;
  let first: OrchestratorProcess | undefined;
  let second: OrchestratorProcess | undefined;
  let agent: AgentProcess | undefined;
  let database: pg.Pool | undefined;
  /** An admin token for each instance: one token, since users are kept in the shared PostgreSQL. */
  const admin = new Map<OrchestratorProcess, typeof fetch>();
  const inputs = new Map<string, string>();

  before(async function () {
    skipWithoutEjabberd(this);
    postgres = postgresOrSkip(this, await startTestPostgres());
    fabric = await startTestEjabberd();
    const databaseUrl = await postgres.createDatabase();
    database = new pg.Pool({ connectionString: databaseUrl });
    const [dataA, dataB, files, services] = await Promise.all(['a', 'b', 'files', 'services'].map((name) => mkdtemp(path.join(os.tmpdir(), `outpost-${name}-`))));
    dirs = [dataA!, dataB!, files!, services!];
    runsFile = path.join(services!, 'runs');
    await writeCountedEcho(services!, runsFile);
    await copyExamples(services!, 'slow');
    await writeScript(services!, 'bin/quote.sh', `mkdir -p out && { printf 'quoted: '; cat "$1"; } > out/quote.txt`);
    await writeProperties(services!, 'quote.properties', {
      service: 'quote',
      executable: 'bin/quote.sh',
      argformat: 'positional',
      inputs: JSON.stringify({ text: { type: 'file', mediaTypes: ['text/plain'] } }),
      outputs: JSON.stringify({ quote: { type: 'file', from: 'file:out/quote.txt', mediaType: 'text/plain' } }),
    });
    const flags = ['--database', databaseUrl, '--files-dir', files!, '--lease-retry', '0.1', '--anonymous-execute', 'true', '--agent-grace', '20'];
    first = await startOrchestratorProcess(fabric.ejabberd, dataA!, flags);
    second = await startOrchestratorProcess(fabric.ejabberd, dataB!, flags);
    const { jid, password } = await fabric.addAccount('worker');
    await first.cli('agent', 'add', jid, '--pool', 'fleet', '--database', databaseUrl);
    const asAdmin = withToken(await second.cli('token', 'create', '--user', 'root', '--admin', '--database', databaseUrl));
    for (const o of [first, second]) admin.set(o, asAdmin);
    agent = spawnAgent({ server: fabric.ejabberd.clientService, jid: `${jid}/agent`, password, services: services!, workDir: path.join(dataA!, 'agent'), slots: 4 });
    for (const o of [first, second]) {
      await eventually(async () => ((await fetch(`${o.url}/processes/counted`)).ok ? true : undefined), 20_000, `${o.url} offers the agent's process`);
    }
  });
  after(async () => {
    await agent?.crash();
    await Promise.all([first?.crash(), second?.crash()]);
    await database?.end();
    await fabric?.stop();
    await postgres?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const submit = async (o: OrchestratorProcess, echo: string, pause = 0.2) => inputs.set(await submitCounted(fetch, o.url, echo, pause), echo);
  const unfinished = async (o: OrchestratorProcess) => {
    const listed = (await (await fetch(`${o.url}/jobs?limit=1000`)).json()) as { jobs: { status: string }[] };
    return listed.jobs.filter((job) => job.status === 'accepted' || job.status === 'running').length;
  };
  /** Which instance handed each job to its agent, as the store records it. */
  const dispatchers = async (echoes: (echo: string) => boolean) => {
    const ids = [...inputs].filter(([, echo]) => echoes(echo)).map(([id]) => id);
    const { rows } = await database!.query<{ by: string | null }>('SELECT DISTINCT dispatched_by AS by FROM jobs WHERE id = ANY($1)', [ids]);
    return rows.map((row) => row.by);
  };
  const allFinished = (o: OrchestratorProcess, timeoutMs = 30_000) => eventually(async () => ((await unfinished(o)) === 0 ? true : undefined), timeoutMs, 'every job finished');

  it('runs jobs submitted through either instance once each, async and sync, with results readable from both', async () => {
    const sync = async (o: OrchestratorProcess, echo: string) => {
      const response = await fetch(`${o.url}/processes/counted/execution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { echo, pause: 0.2 } }) });
      expect(response.status, await response.clone().text()).to.equal(200);
      expect(await response.text()).to.include(echo);
      inputs.set(response.headers.get('location')?.split('/').pop() ?? echo, echo);
    };
    await Promise.all([
      ...Array.from({ length: 4 }, (_, n) => submit(first!, `through-a-${n}`)),
      ...Array.from({ length: 4 }, (_, n) => submit(second!, `through-b-${n}`)),
      sync(first!, 'sync-through-a'),
      sync(second!, 'sync-through-b'),
    ]);
    await allFinished(first!);
    for (const o of [first!, second!]) await expectEachEchoedOnce(await finalJobs(fetch, o.url, inputs.keys()), inputs, runsFile);
  });

  it('shares files: an inline input given to the follower reaches the agent, and its file output is read through the follower', async () => {
    const response = await fetch(`${second!.url}/processes/quote/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { text: { value: 'held in common', mediaType: 'text/plain' } } }),
    });
    expect(response.status, await response.clone().text()).to.equal(201);
    const { jobID } = (await response.json()) as { jobID: string };
    await eventually(async () => (((await (await fetch(`${second!.url}/jobs/${jobID}`)).json()) as { status: string }).status === 'successful' ? true : undefined), 20_000, 'the quote job succeeded');
    for (const o of [first!, second!]) expect(await (await fetch(`${o.url}/jobs/${jobID}/results/quote`)).text()).to.equal('quoted: held in common');
  });

  it('streams the progress and the end of a job the dispatcher runs to a client of the other instance', async () => {
    const response = await fetch(`${first!.url}/processes/slow/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { steps: 5, interval: 0.3 } }),
    });
    expect(response.status, await response.clone().text()).to.equal(201);
    const { jobID } = (await response.json()) as { jobID: string };
    const stream = new EventStreamReader(await fetch(`${second!.url}/jobs/${jobID}/events`));
    const statuses = (await stream.rest(20_000)).map((event) => JSON.parse(event.data) as { status: string; progress?: number });
    expect(statuses.some((s) => s.status === 'running' && s.progress! > 0 && s.progress! < 100), JSON.stringify(statuses)).to.equal(true);
    expect(statuses.at(-1)?.status).to.equal('successful');
  });

  it('after a kill -9 of the dispatcher, the other takes over: running jobs finish with their results, waiting ones run, none lost or run twice', async () => {
    const release = await holdRuns(runsFile);
    const earlier = inputs.size;
    await Promise.all(Array.from({ length: 4 }, (_, n) => submit(n % 2 ? first! : second!, `running-${n}`)));
    await eventually(async () => ((await runsOf(runsFile)).size === inputs.size ? true : undefined), 10_000, 'the agent runs the new jobs');
    await Promise.all(Array.from({ length: 4 }, (_, n) => submit(n % 2 ? first! : second!, `waiting-${n}`)));
    expect(inputs.size).to.equal(earlier + 8);
    await first!.crash();
    const killed = Date.now();
    await release();
    await eventually(async () => ((await runsOf(runsFile)).has('waiting-0') ? true : undefined), 20_000, 'a waiting job runs after the takeover');
    console.log(`      takeover: a waiting job ran ${Date.now() - killed} ms after the kill -9 of the dispatcher`);
    await allFinished(second!);
    await expectEachEchoedOnce(await finalJobs(fetch, second!.url, inputs.keys()), inputs, runsFile);
    const [original] = await dispatchers((echo) => echo.startsWith('through-'));
    const takenOver = await dispatchers((echo) => /^(running|waiting)-/.test(echo));
    expect(original).to.be.a('string');
    expect(takenOver).to.have.length(1).and.not.include(original);
  });

  it('stops a run on the agent when the follower is asked to kill its job', async () => {
    // The killed instance comes back, as its supervisor would start it: a follower now.
    await first!.restart();
    const pause = '41.25';
    const id = await submitCounted(fetch, first!.url, 'to-be-killed', Number(pause));
    const sleeping = async () => (await run('pgrep', ['-f', `sleep ${pause}`]).then(() => true, () => false));
    await eventually(async () => ((await sleeping()) ? true : undefined), 10_000, 'the run sleeps on the agent');
    const response = await admin.get(first!)!(`${first!.url}/admin/jobs/${id}/kill`, { method: 'POST' });
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(((await response.json()) as { dismissedBy: string }).dismissedBy).to.equal('root');
    expect(await sleeping()).to.equal(false);
    const job = (await (await fetch(`${second!.url}/jobs/${id}`)).json()) as { status: string };
    expect(job.status).to.equal('dismissed');
  });

  it('dismisses a running job through the follower, whose admin event stream tells the removal, and hands a process to another pool through it', async () => {
    const id = await submitCounted(fetch, first!.url, 'to-be-dismissed', 40.75);
    await eventually(async () => (((await (await fetch(`${second!.url}/jobs/${id}`)).json()) as { status: string }).status === 'running' ? true : undefined), 10_000, 'the job runs');
    const adminEvents = new EventStreamReader(await admin.get(first!)!(`${first!.url}/admin/events`));
    const dismissed = await fetch(`${first!.url}/jobs/${id}`, { method: 'DELETE' });
    expect(dismissed.status, await dismissed.clone().text()).to.equal(200);
    expect(((await dismissed.json()) as { status: string }).status).to.equal('dismissed');
    for (const o of [first!, second!]) expect((await fetch(`${o.url}/jobs/${id}`)).status).to.equal(404);
    expect(await run('pgrep', ['-f', 'sleep 40.75']).then(() => 'still running', () => 'stopped')).to.equal('stopped');
    let removal: string | undefined;
    while (removal === undefined) {
      const event = await adminEvents.next(10_000);
      if (!event) break;
      if (event.event === 'removed') removal = event.data;
    }
    await adminEvents.close();
    expect(removal && JSON.parse(removal)).to.deep.equal({ jobID: id, reason: 'dismissed' });

    const handed = await admin.get(first!)!(`${first!.url}/admin/processes/quote/pool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pool: 'elsewhere' }) });
    expect(handed.status, await handed.clone().text()).to.equal(200);
    // No agent of the pool it was handed to offers it: it is on offer nowhere now.
    for (const o of [first!, second!]) expect(await fetch(`${o.url}/processes/quote`).then((r) => r.status)).to.equal(404);
  });

  it("drains an agent through the follower: the dispatcher stops giving it jobs, and both instances show it", async () => {
    const { agents } = (await (await admin.get(first!)!(`${first!.url}/admin/agents`)).json()) as { agents: { jid: string }[] };
    const { jid } = agents[0]!;
    const drain = (action: string) => admin.get(first!)!(`${first!.url}/admin/agents/${encodeURIComponent(jid)}/${action}`, { method: 'POST' });
    const response = await drain('drain');
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(((await response.json()) as { drained: boolean }).drained).to.equal(true);
    const onDispatcher = (await (await admin.get(second!)!(`${second!.url}/admin/agents/${encodeURIComponent(jid)}`)).json()) as { drained: boolean };
    expect(onDispatcher.drained).to.equal(true);
    const id = await submitCounted(fetch, first!.url, 'after-drain', 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(((await (await fetch(`${second!.url}/jobs/${id}`)).json()) as { status: string }).status).to.equal('accepted');
    expect((await drain('undrain')).status).to.equal(200);
    await eventually(async () => (((await (await fetch(`${first!.url}/jobs/${id}`)).json()) as { status: string }).status === 'successful' ? true : undefined), 10_000, 'the job runs once undrained');
  });

  it('stops at once, with exit code 75, when its lease connection fails, and the other instance takes over', async () => {
    // The second instance dispatches since the first was killed; its lease session is ended from outside.
    const { rows } = await database!.query<{ ended: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'outpost dispatcher lease' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
    );
    expect(rows).to.deep.equal([{ ended: true }]);
    expect(await second!.exited()).to.equal(75);
    const id = await submitCounted(fetch, first!.url, 'after-fencing', 0);
    await allFinished(first!);
    expect(await finalJobs(fetch, first!.url, [id])).to.deep.equal(new Map([[id, { status: 'successful', echo: 'after-fencing' }]]));
    expect((await runsOf(runsFile)).get('after-fencing')).to.equal(1);
  });

  it('holds a user to the waiting limit across both instances: of jobs sent at once through both, the limit waits and the rest get 429', async () => {
    // The instance fenced by the test before comes back, as its supervisor would start it: a follower.
    await second!.restart();
    const asAdmin = admin.get(first!)!;
    const send = (call: typeof fetch, url: string, method: string, body: unknown) => call(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send(asAdmin, `${first!.url}/admin/users`, 'POST', { name: 'capped' })).status).to.equal(201);
    const { token } = (await (await send(asAdmin, `${first!.url}/admin/users/capped/tokens`, 'POST', { label: 'limits' })).json()) as { token: string };
    expect((await send(asAdmin, `${first!.url}/admin/users/capped/limits`, 'PUT', { maxRunning: 1, maxWaiting: 1 })).status).to.equal(200);
    const capped = withToken(token);
    // The other instance hears of the new token through the shared store within a second.
    await eventually(async () => ((await capped(`${second!.url}/jobs`)).ok ? true : undefined), 5000, 'the token works on the other instance');
    const release = await holdRuns(runsFile);
    const cappedInputs = new Map<string, string>();
    cappedInputs.set(await submitCounted(capped, second!.url, 'capped-running', 0), 'capped-running');
    await eventually(async () => ((await runsOf(runsFile)).has('capped-running') ? true : undefined), 10_000, 'the first job of the capped user runs');
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        capped(`${(n % 2 ? first! : second!).url}/processes/counted/execution`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async' },
          body: JSON.stringify({ inputs: { echo: `capped-${n}`, pause: 0 } }),
        }).then(async (response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { jobID?: string; detail?: string } })),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 201);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(accepted, JSON.stringify(answers)).to.have.length(1);
    expect(refused, JSON.stringify(answers)).to.have.length(5);
    await release();
    for (const answer of refused) {
      expect(answer.retryAfter).to.equal('5');
      // A follower's early check counts the rows stored, which may hold a job being refused at that instant.
      expect(answer.body.detail).to.match(/^user 'capped' already has [12] jobs? waiting \(limit 1\)$/);
    }
    const { jobID } = accepted[0]!.body;
    const echo = answers.indexOf(accepted[0]!);
    cappedInputs.set(jobID!, `capped-${echo}`);
    // The capped user's jobs are theirs alone to read.
    const ended = async () => [...(await finalJobs(capped, first!.url, cappedInputs.keys())).values()].every((job) => job.status === 'successful');
    await eventually(async () => ((await ended()) ? true : undefined), 20_000, 'both jobs of the capped user successful');
    const jobs = await finalJobs(capped, second!.url, cappedInputs.keys());
    expect([...cappedInputs].map(([id, echo]) => jobs.get(id)?.echo === echo)).to.deep.equal([true, true]);
    const runs = await runsOf(runsFile);
    expect([...runs].filter(([input]) => input.startsWith('capped-'))).to.deep.equal([...cappedInputs.values()].map((input) => [input, 1]));
  });
});
