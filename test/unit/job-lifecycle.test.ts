import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import type { JobChangeEvent, JobEvent } from '../../src/jobs/job-events.js';
import { JobLifecycle, type SubmitRequest } from '../../src/jobs/job-lifecycle.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/jobs/owner-limits.js';
import { UnsendableMessageError, type OrchestratorMessage } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { REST_MS } from '../../src/scheduler/scheduler.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { eventually } from '../helpers/cluster.js';
import { spec } from '../helpers/http-harness.js';
import { testLogger } from '../helpers/logger.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

/** The job as an event other than a removal carries it. */
function jobOf(event: JobEvent | undefined) {
  expect(event?.type).to.not.equal('removed');
  return (event as JobChangeEvent).job;
}

const WORKER = 'worker@example.org/agent';
const LOAD = { slots: 1, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };
const REQUEST: SubmitRequest = { processId: 'echo', inputs: {}, execution: { response: 'document' }, owner: 'ann' };

/** Lets every change already under way finish (the SQLite store answers at once). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('JobLifecycle: one write and one event per change', function () {
  let temp: TempDatabase;
  let connection: BetterSqlite3.Database;
  let registry: AgentRegistry;
  let lifecycle: JobLifecycle;
  let jobStore: SqliteJobStore;
  /** Every SQL statement run on the connection, as better-sqlite3 traces it. */
  let statements: string[];
  let events: JobEvent[];
  let sent: [string, OrchestratorMessage][];
  let sendError: Error | undefined;
  let limits: Limits;

  const writes = () => statements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)\b/i.test(sql));
  const types = () => events.map((event) => event.type);
  const reset = () => {
    statements = [];
    events = [];
    sent = [];
  };
  /** WORKER offers echo with `slots` free slots. */
  const offerEcho = (slots = 1) => {
    registry.updatePresence(WORKER, { ...LOAD, slots });
    registry.setCatalog(WORKER, 'h1', [spec('echo')], []);
  };

  beforeEach(async function () {
    temp = await openTempDatabase();
    temp.db.close();
    statements = [];
    connection = new BetterSqlite3(temp.file, { verbose: (sql) => void statements.push(String(sql)) });
    jobStore = new SqliteJobStore(connection);
    registry = new AgentRegistry();
    // Offered, but with no room until a test gives it some: jobs wait.
    offerEcho(0);
    sendError = undefined;
    limits = { ...DEFAULT_LIMITS };
    lifecycle = new JobLifecycle({
      jobStore,
      registry,
      send: async (jid, message) => {
        sent.push([jid, message]);
        if (sendError && message.type === 'execute') throw sendError;
      },
      uploadFor: (jobId) => ({ url: `http://127.0.0.1/uploads/${jobId}`, token: 't' }),
      removeFiles: async () => undefined,
      inputFiles: { store: async () => undefined, url: () => 'http://orchestrator/inputs', remove: async () => undefined },
      limits: () => limits,
      graceMs: 30,
      killTimeoutMs: 500,
      logger: testLogger,
    });
    lifecycle.events.listen((event) => void events.push(event));
    reset();
  });
  afterEach(async function () {
    lifecycle.close();
    connection.close();
    await temp.dispose();
  });

  /** A job handed to WORKER, with the trace cleared. */
  async function dispatched(): Promise<string> {
    offerEcho();
    const { id } = await lifecycle.submit(REQUEST);
    await settled();
    reset();
    return id;
  }

  /** A job WORKER reports running, with the trace cleared. */
  async function running(): Promise<string> {
    const id = await dispatched();
    await lifecycle.running(WORKER, id);
    reset();
    return id;
  }

  it('creates a job that waits in one INSERT and one created event, contacting no agent', async function () {
    const job = await lifecycle.submit(REQUEST);
    await settled();
    expect(writes()).to.have.length(1);
    expect(writes()[0]).to.match(/^INSERT INTO jobs .* RETURNING \*$/s);
    expect(types()).to.deep.equal(['created']);
    expect(events[0]!.job).to.deep.equal(job);
    expect(sent).to.deep.equal([]);
    expect(lifecycle.queued()).to.equal(1);
  });

  it('stores a job placed at once handed out, in its one INSERT, then tells it assigned and sends execute', async function () {
    offerEcho();
    const job = await lifecycle.submit(REQUEST);
    await settled();
    expect(types()).to.deep.equal(['created', 'assigned']);
    expect(writes()).to.have.length(1);
    expect(writes()[0]).to.match(/^INSERT INTO jobs .* RETURNING \*$/s);
    expect(job).to.include({ agent: WORKER, status: 'accepted' });
    expect(events[1]).to.deep.include({ type: 'assigned', agent: WORKER });
    expect(events[1]!.job).to.include({ agent: WORKER, status: 'accepted' });
    expect(sent).to.deep.equal([[WORKER, { v: 1, type: 'execute', job: job.id, process: 'echo', inputs: {}, upload: { url: `http://127.0.0.1/uploads/${job.id}`, token: 't' } }]]);
  });

  it('assigns a job that waited in one UPDATE and one assigned event once an agent has room, then sends execute', async function () {
    const { id } = await lifecycle.submit(REQUEST);
    await settled();
    reset();
    offerEcho();
    lifecycle.dispatchWaiting();
    await settled();
    expect(types()).to.deep.equal(['assigned']);
    expect(writes()).to.have.length(1);
    expect(writes()[0]).to.match(/^UPDATE jobs SET agent = /);
    expect(sent.map(([jid, message]) => [jid, message.type])).to.deep.equal([[WORKER, 'execute']]);
    expect(jobStore.rows.get(id)).to.include({ status: 'accepted', agent: WORKER });
  });

  it('sends the job deadline in execute, counted from the submission, when one is set', async function () {
    lifecycle.close();
    const sentHere: OrchestratorMessage[] = [];
    const withDeadline = new JobLifecycle({
      jobStore,
      registry,
      send: async (_jid, message) => void sentHere.push(message),
      uploadFor: () => ({ url: 'u', token: 't' }),
      removeFiles: async () => undefined,
      inputFiles: { store: async () => undefined, url: () => 'u', remove: async () => undefined },
      limits: () => limits,
      graceMs: 30,
      deadlineMs: 90_000,
      logger: testLogger,
    });
    offerEcho();
    const job = await withDeadline.submit(REQUEST);
    await settled();
    withDeadline.close();
    expect(sentHere).to.deep.equal([
      { v: 1, type: 'execute', job: job.id, process: 'echo', inputs: {}, deadline: new Date(Date.parse(job.created) + 90_000).toISOString(), upload: { url: 'u', token: 't' } },
    ]);
  });

  it('refuses a job beyond the waiting limit with 429, writing nothing and telling nobody', async function () {
    limits = { maxRunning: 16, maxWaiting: 1 };
    await lifecycle.submit(REQUEST);
    reset();
    let refused: Error | undefined;
    await lifecycle.submit(REQUEST).catch((error: Error) => (refused = error));
    expect(refused?.message).to.equal("user 'ann' already has 1 job waiting (limit 1)");
    expect(jobStore.rows.list({ limit: 10, offset: 0 }).jobs).to.have.length(1);
    expect(statements.filter((sql) => /^(INSERT|UPDATE|DELETE|BEGIN)/.test(sql))).to.deep.equal([]);
    expect(events).to.deep.equal([]);
  });

  it('marks a job running in one UPDATE and one running event; a repeat changes no row and tells nobody', async function () {
    const id = await dispatched();
    await lifecycle.running(WORKER, id);
    expect(writes()).to.have.length(1);
    expect(types()).to.deep.equal(['running']);
    const running = events[0]!.job;
    expect(running).to.include({ status: 'running', agent: WORKER });
    expect(jobStore.rows.get(id)).to.deep.equal(running);
    reset();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await lifecycle.running(WORKER, id);
    expect(events).to.deep.equal([]);
    expect(jobStore.rows.get(id)).to.deep.equal(running);
  });

  it('costs one statement per progress tick, and nothing else', async function () {
    const id = await running();
    await lifecycle.progress(WORKER, id, 1, 40, 'reading');
    expect(statements).to.have.length(1);
    expect(statements[0]).to.match(/^UPDATE jobs SET progress .* RETURNING \*$/s);
    expect(types()).to.deep.equal(['progress']);
    expect(events[0]!.job).to.include({ progress: 40, message: 'reading', lastSeq: 1 });
  });

  it('ignores repeated and out-of-order progress: nothing changes, nothing is told', async function () {
    const id = await running();
    await lifecycle.progress(WORKER, id, 3, 30, 'third');
    reset();
    await lifecycle.progress(WORKER, id, 3, 99, 'again');
    await lifecycle.progress(WORKER, id, 2, 20, 'older');
    expect(events).to.deep.equal([]);
    expect(jobStore.rows.get(id)).to.include({ progress: 30, message: 'third', lastSeq: 3 });
  });

  it('keeps the order of one job’s changes given at once: a late progress never follows the end', async function () {
    const id = await running();
    await Promise.all([
      lifecycle.progress(WORKER, id, 1, 10, 'one'),
      lifecycle.ended(WORKER, id, 2, { status: 'successful', results: { result: { value: 'ok' } } }),
      lifecycle.progress(WORKER, id, 3, 90, 'late'),
    ]);
    expect(types()).to.deep.equal(['progress', 'finished']);
    expect(jobStore.rows.get(id)).to.include({ status: 'successful', progress: 100 });
  });

  it('finishes a job in one UPDATE and one finished event, and acknowledges every copy of the terminal event', async function () {
    const id = await running();
    await lifecycle.ended(WORKER, id, 2, { status: 'successful', results: { result: { value: 'ok' } } });
    expect(writes()).to.have.length(1);
    expect(types()).to.deep.equal(['finished']);
    expect(events[0]!.job).to.include({ status: 'successful' });
    await lifecycle.ended(WORKER, id, 2, { status: 'successful', results: { result: { value: 'ok' } } });
    expect(types()).to.deep.equal(['finished']);
    expect(sent).to.deep.equal([
      [WORKER, { v: 1, type: 'ack', job: id, seq: 2 }],
      [WORKER, { v: 1, type: 'ack', job: id, seq: 2 }],
    ]);
  });

  it('kills a queued job without contacting any agent: one UPDATE, one finished event', async function () {
    const { id } = await lifecycle.submit(REQUEST);
    reset();
    const killed = await lifecycle.kill(id, 'admin');
    expect(killed).to.include({ status: 'dismissed', dismissedBy: 'admin', agent: null });
    expect(writes()).to.have.length(1);
    expect(types()).to.deep.equal(['finished']);
    expect(sent).to.deep.equal([]);
    expect(lifecycle.queued()).to.equal(0);
  });

  it('asks the agent to kill a running job, and ends it dismissed once the agent confirms', async function () {
    const id = await running();
    const killing = lifecycle.kill(id, 'admin');
    await settled();
    expect(types()).to.deep.equal(['kill-requested']);
    expect(sent).to.deep.equal([[WORKER, { v: 1, type: 'kill', job: id }]]);
    expect(writes()).to.deep.equal([]);
    await lifecycle.ended(WORKER, id, 1, { status: 'failed', error: { code: 'signal', message: 'killed', signal: 'SIGTERM' } });
    expect(await killing).to.include({ status: 'dismissed', dismissedBy: 'admin' });
    expect(types()).to.deep.equal(['kill-requested', 'finished']);
    expect(writes()).to.have.length(1);
  });

  it('puts a job its agent refused as busy back in the queue: one UPDATE, one queued event', async function () {
    const id = await dispatched();
    await lifecycle.rejected(WORKER, id, 'busy', 'no free slot');
    await settled();
    expect(types()).to.deep.equal(['queued']);
    expect(writes()).to.have.length(1);
    expect(events[0]!.job).to.include({ status: 'accepted', agent: null });
  });

  it('notes in one UPDATE that an agent was lost and until when, then fails its running job once the grace is over', async function () {
    const id = await running();
    await lifecycle.agentLost(WORKER);
    expect(types()).to.deep.equal(['agent-lost']);
    expect(events[0]).to.deep.include({ agent: WORKER, graceMs: 30 });
    expect(events[0]!.job.id).to.equal(id);
    expect(writes()).to.have.length(1);
    expect(jobOf(events[0]).message).to.match(new RegExp(`^agent ${WORKER} lost at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ; the job fails at \\S+Z unless it comes back$`));
    expect(jobStore.rows.get(id)!.message).to.equal(jobOf(events[0]).message);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(types()).to.deep.equal(['agent-lost', 'finished']);
    expect(writes()).to.have.length(2);
    expect(jobOf(events[1]).error).to.deep.equal({ code: 'agent-lost', message: `agent ${WORKER} was lost while running the job` });
  });

  it('clears the lost-agent note in one UPDATE when the agent reports the job again, even under the same JID', async function () {
    const id = await running();
    await lifecycle.progress(WORKER, id, 1, 40, 'halfway');
    await lifecycle.agentLost(WORKER);
    expect(jobStore.rows.get(id)!.message).to.match(/^agent .* lost at /);
    reset();
    await lifecycle.inFlight(WORKER, [{ job: id, seq: 1 }]);
    expect(types()).to.deep.equal(['running']);
    expect(writes()).to.have.length(1);
    expect(events[0]!.job).to.include({ status: 'running', message: null, progress: 40 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(jobStore.rows.get(id)!.status).to.equal('running');
  });

  it('clears a lost-agent note left from before a restart when the agent reports the job to the new lifecycle', async function () {
    const id = await running();
    await lifecycle.agentLost(WORKER);
    lifecycle.close();
    lifecycle = new JobLifecycle({ jobStore, registry, send: async () => undefined, uploadFor: () => ({ url: 'u', token: 't' }), removeFiles: async () => undefined, inputFiles: { store: async () => undefined, url: () => 'u', remove: async () => undefined }, limits: () => limits, graceMs: 30, logger: testLogger });
    await lifecycle.resume();
    await lifecycle.inFlight(WORKER, [{ job: id, seq: 1 }]);
    expect(jobStore.rows.get(id)).to.include({ status: 'running', message: null });
  });

  it('says that a lost agent\'s job that had not started goes back to the queue', async function () {
    await dispatched();
    await lifecycle.agentLost(WORKER);
    expect(jobOf(events[0]).message).to.match(/; the job goes back to the queue at \S+Z unless it comes back$/);
  });

  it('fails a job whose execute can never be sent, once: one UPDATE, one finished event', async function () {
    sendError = new UnsendableMessageError('the inputs do not fit in one stanza');
    offerEcho();
    await lifecycle.submit(REQUEST);
    await settled();
    expect(types()).to.deep.equal(['created', 'assigned', 'finished']);
    expect(jobOf(events[2]).error).to.deep.equal({ code: 'undeliverable', message: 'the inputs do not fit in one stanza' });
  });

  it('keeps a job queued when the store refuses its placement, and places it once the store takes writes again', async function () {
    const { id } = await lifecycle.submit(REQUEST);
    // A connection that takes no writes fails them as a read-only data directory does (SQLITE_READONLY).
    connection.pragma('query_only = ON');
    offerEcho();
    lifecycle.dispatchWaiting();
    await settled();
    expect(sent).to.deep.equal([]);
    expect(lifecycle.queued()).to.equal(1);
    connection.pragma('query_only = OFF');
    // Placed again after the rest that follows a refused placement, however busy the machine.
    await eventually(() => (sent.length > 0 ? true : undefined), REST_MS + 5000, 'the job placed again');
    expect(sent.map(([jid, message]) => [jid, message.type])).to.deep.equal([[WORKER, 'execute']]);
    expect(jobStore.rows.get(id)).to.include({ status: 'accepted', agent: WORKER });
  });

  it('removes a dismissed job: finished, then removed', async function () {
    const { id } = await lifecycle.submit(REQUEST);
    reset();
    await lifecycle.dismiss(id);
    expect(types()).to.deep.equal(['finished', 'removed']);
    expect(writes().map((sql) => sql.split(' ')[0])).to.deep.equal(['UPDATE', 'DELETE']);
    expect(jobStore.rows.get(id)).to.equal(undefined);
  });

  it('tells a listener added later only the changes after it was added', async function () {
    const id = await running();
    await lifecycle.progress(WORKER, id, 1, 10, null);
    const later: JobEvent[] = [];
    const stop = lifecycle.events.listen((event) => void later.push(event));
    await lifecycle.progress(WORKER, id, 2, 20, null);
    stop();
    await lifecycle.progress(WORKER, id, 3, 30, null);
    expect(later.map((event) => [event.type, jobOf(event).progress])).to.deep.equal([['progress', 20]]);
  });
});
