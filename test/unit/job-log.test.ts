import { expect } from 'chai';
import { JobLifecycle, type SubmitRequest } from '../../src/jobs/job-lifecycle.js';
import { logJobEvents } from '../../src/jobs/job-log.js';
import { DEFAULT_LIMITS } from '../../src/jobs/owner-limits.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { spec } from '../helpers/http-harness.js';
import { capturingLogger, testLogger } from '../helpers/logger.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const WORKER = 'worker@example.org/agent';
const LOAD = { slots: 1, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };
const REQUEST: SubmitRequest = { processId: 'echo', inputs: {}, execution: { response: 'document' }, owner: 'ann' };

/** Lets every change already under way finish (the SQLite store answers at once). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('job log: one line per change of a job', function () {
  let temp: TempDatabase;
  let registry: AgentRegistry;
  let lifecycle: JobLifecycle;
  let lines: Record<string, unknown>[];

  const offerEcho = (slots: number) => {
    registry.updatePresence(WORKER, { ...LOAD, slots });
    registry.setCatalog(WORKER, 'h1', [spec('echo')], []);
  };
  /** What each line says, with the fields every line has checked on the way. */
  const said = (jobId: string) =>
    lines.map((line) => {
      expect(line).to.include({ job: jobId, process: 'echo' });
      return `${line['level']} ${line['msg']}${line['agent'] ? ` @${line['agent']}` : ''}`;
    });

  beforeEach(async function () {
    temp = await openTempDatabase();
    registry = new AgentRegistry();
    offerEcho(0);
    lifecycle = new JobLifecycle({
      jobStore: new SqliteJobStore(temp.db),
      registry,
      send: async () => undefined,
      uploadFor: (jobId) => ({ url: `http://127.0.0.1/uploads/${jobId}`, token: 't' }),
      removeFiles: async () => undefined,
      inputFiles: { store: async () => undefined, url: () => 'http://orchestrator/inputs', remove: async () => undefined },
      limits: () => DEFAULT_LIMITS,
      graceMs: 30,
      killTimeoutMs: 100,
      logger: testLogger,
    });
    const captured = capturingLogger();
    captured.logger.level = 'debug';
    lines = captured.lines;
    logJobEvents(lifecycle.events, captured.logger);
  });
  afterEach(async function () {
    lifecycle.close();
    await temp.dispose();
  });

  it('follows a job from submission to success, with progress at debug level', async function () {
    const { id } = await lifecycle.submit(REQUEST);
    offerEcho(1);
    lifecycle.dispatchWaiting();
    await settled();
    await lifecycle.running(WORKER, id);
    await lifecycle.progress(WORKER, id, 1, 50, 'half');
    await lifecycle.ended(WORKER, id, 2, { status: 'successful', results: {} });
    expect(said(id)).to.deep.equal([
      '30 job submitted',
      `30 job dispatched @${WORKER}`,
      `30 job running @${WORKER}`,
      `20 job progress @${WORKER}`,
      `30 job successful @${WORKER}`,
    ]);
    expect(lines[0]).to.include({ owner: 'ann' });
    expect(lines[3]).to.include({ progress: 50, message: 'half' });
  });

  it('tells of a lost agent, until when, and of its coming back', async function () {
    offerEcho(1);
    const { id } = await lifecycle.submit(REQUEST);
    await settled();
    await lifecycle.running(WORKER, id);
    lines.length = 0;
    await lifecycle.agentLost(WORKER);
    await lifecycle.inFlight(WORKER, [{ job: id, seq: 1 }]);
    expect(said(id)).to.have.length(2);
    expect(said(id)[1]).to.equal(`30 agent back: it reports the job running @${WORKER}`);
    expect(lines[0]!['msg']).to.match(new RegExp(`^agent lost: agent ${WORKER} lost at \\S+Z; the job fails at \\S+Z unless it comes back$`));
    expect(lines[0]).to.include({ graceMs: 30 });
  });

  it('gives the cause of a failure, and who killed a job', async function () {
    offerEcho(1);
    const failing = await lifecycle.submit(REQUEST);
    await settled();
    await lifecycle.running(WORKER, failing.id);
    await lifecycle.ended(WORKER, failing.id, 1, { status: 'failed', error: { code: 'exit', message: 'the program exited with code 3', exitCode: 3 } });
    expect(lines.at(-1)).to.include({ msg: 'job failed', code: 'exit', cause: 'the program exited with code 3', agent: WORKER });

    const killed = await lifecycle.submit(REQUEST);
    await settled();
    lines.length = 0;
    await lifecycle.kill(killed.id, 'root');
    expect(said(killed.id)).to.deep.equal([`30 job kill requested by admin root @${WORKER}`, `30 job dismissed by admin root @${WORKER}`]);
  });

  it('tells of a job requeued after its agent refused it, and of a dismissed job removed', async function () {
    offerEcho(1);
    const { id } = await lifecycle.submit(REQUEST);
    await settled();
    offerEcho(0);
    lines.length = 0;
    await lifecycle.rejected(WORKER, id, 'busy', 'no free slot');
    await settled();
    await lifecycle.dismiss(id);
    expect(said(id)).to.deep.equal(['30 job requeued: it waits for an agent again', '30 job dismissed by its owner', '30 job removed']);
  });
});
