import { expect } from 'chai';
import { AgentEvents } from '../../src/jobs/agent-events.js';
import { JobLifecycle } from '../../src/jobs/job-lifecycle.js';
import { DEFAULT_LIMITS } from '../../src/jobs/owner-limits.js';
import type { OrchestratorMessage, TerminalEvent } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import type { JobStore } from '../../src/store/job-store.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { jobRecord } from '../helpers/job-records.js';
import { testLogger } from '../helpers/logger.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const WORKER = 'worker@example.org/agent';
const OTHER = 'other@example.org/agent';

describe('AgentEvents: who may report what', function () {
  let temp: TempDatabase;
  let store: JobStore;
  let sent: [string, OrchestratorMessage][];
  let lifecycle: JobLifecycle;
  let events: AgentEvents;

  beforeEach(async function () {
    temp = await openTempDatabase();
    const jobStore = new SqliteJobStore(temp.db);
    store = jobStore.rows;
    sent = [];
    const registry = new AgentRegistry();
    const send = async (jid: string, message: OrchestratorMessage) => void sent.push([jid, message]);
    lifecycle = new JobLifecycle({ jobStore, registry, send, uploadFor: () => ({ url: 'u', token: 't' }), removeFiles: async () => undefined, inputFiles: { store: async () => undefined, url: () => 'u', remove: async () => undefined }, limits: () => DEFAULT_LIMITS, graceMs: 1000, logger: testLogger });
    events = new AgentEvents(lifecycle);
    store.create(jobRecord('j1', { status: 'running', agent: WORKER, started: new Date().toISOString() }));
  });
  afterEach(async function () {
    lifecycle.close();
    await temp.dispose();
  });

  const completed = (outputs: Extract<TerminalEvent, { type: 'completed' }>['outputs']): TerminalEvent => ({ v: 1, type: 'completed', job: 'j1', seq: 3, outputs });

  it('applies a result from the agent the job was handed to, and acknowledges it', async function () {
    await events.handle(WORKER, completed({ result: { value: 'ok' } }));
    expect(store.get('j1')).to.include({ status: 'successful' });
    expect(store.get('j1')!.results).to.deep.equal({ result: { value: 'ok' } });
    expect(sent).to.deep.equal([[WORKER, { v: 1, type: 'ack', job: 'j1', seq: 3 }]]);
  });

  it('keeps the outputs as reported, without checking their names against the description, which may have changed since dispatch', async function () {
    await events.handle(WORKER, completed({ undeclared: { value: 1 }, other: { value: [true] } }));
    expect(store.get('j1')).to.include({ status: 'successful' });
    expect(store.get('j1')!.results).to.deep.equal({ undeclared: { value: 1 }, other: { value: [true] } });
  });

  it('ignores a result from another agent, but acknowledges it so that it stops resending', async function () {
    await events.handle(OTHER, completed({ result: { value: 'forged' } }));
    expect(store.get('j1')).to.include({ status: 'running', results: null });
    expect(sent).to.deep.equal([[OTHER, { v: 1, type: 'ack', job: 'j1', seq: 3 }]]);
  });

  it('refuses an output reference that is not where this server stores results', async function () {
    await events.handle(WORKER, completed({ map: { href: 'https://evil.example/map.tif', mediaType: 'image/tiff' } }));
    expect(store.get('j1')).to.include({ status: 'failed' });
    expect(store.get('j1')!.error).to.deep.equal({
      code: 'output',
      message: "output 'map' was reported at 'https://evil.example/map.tif', which is not where this server stores results",
    });
  });

  it('fails a job whose inputs its agent refuses as invalid, as the client\'s error', async function () {
    await events.handle(WORKER, { v: 1, type: 'rejected', job: 'j1', reason: 'invalid-inputs', message: "input 'path' is outside /data" });
    expect(store.get('j1')).to.include({ status: 'failed' });
    expect(store.get('j1')!.error).to.deep.equal({ code: 'invalid-inputs', message: "input 'path' is outside /data" });
  });

  it('accepts a reference to the result this server stored', async function () {
    await events.handle(WORKER, completed({ map: { href: '/jobs/j1/results/map', mediaType: 'image/tiff', size: 3 } }));
    expect(store.get('j1')).to.include({ status: 'successful' });
  });

  it('stops a run another agent claims to have accepted', async function () {
    await events.handle(OTHER, { v: 1, type: 'accepted', job: 'j1', seq: 1 });
    expect(sent).to.deep.equal([[OTHER, { v: 1, type: 'kill', job: 'j1' }]]);
    expect(store.get('j1')!.agent).to.equal(WORKER);
  });

  it('takes a first progress or terminal event of a job still accepted as its start (no accepted needed)', async function () {
    store.create(jobRecord('j2', { status: 'accepted', agent: WORKER }));
    store.create(jobRecord('j3', { status: 'accepted', agent: WORKER }));
    await events.handle(WORKER, { v: 1, type: 'progress', job: 'j2', seq: 1, progress: 50 });
    await events.handle(WORKER, { v: 1, type: 'completed', job: 'j3', seq: 1, outputs: {} });
    expect(store.get('j2')).to.include({ status: 'running', progress: 50 });
    expect(store.get('j2')!.started).to.be.a('string');
    expect(store.get('j3')).to.include({ status: 'successful' });
    expect(store.get('j3')!.started).to.be.a('string');
  });
});
