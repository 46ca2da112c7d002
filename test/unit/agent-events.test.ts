import { expect } from 'chai';
import { AgentEvents } from '../../src/jobs/agent-events.js';
import { Dispatcher } from '../../src/jobs/dispatcher.js';
import { JobManager } from '../../src/jobs/job-manager.js';
import { JobUpdates } from '../../src/jobs/job-updates.js';
import { DEFAULT_LIMITS } from '../../src/jobs/owner-limits.js';
import type { OrchestratorMessage, TerminalEvent } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { JobStore } from '../../src/store/job-store.js';
import { jobRecord } from '../helpers/job-records.js';
import { testLogger } from '../helpers/logger.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const WORKER = 'worker@example.org/agent';
const OTHER = 'other@example.org/agent';

describe('AgentEvents: who may report what', function () {
  let temp: TempDatabase;
  let store: JobStore;
  let sent: [string, OrchestratorMessage][];
  let events: AgentEvents;

  beforeEach(async function () {
    temp = await openTempDatabase();
    store = new JobStore(temp.db);
    sent = [];
    const registry = new AgentRegistry();
    const updates = new JobUpdates();
    const send = async (jid: string, message: OrchestratorMessage) => void sent.push([jid, message]);
    const dispatcher = new Dispatcher({ registry, send, load: (id) => store.get(id), assigned: () => undefined, uploadFor: () => ({ url: 'u', token: 't' }), undeliverable: () => undefined, logger: testLogger });
    const manager = new JobManager({ registry, store, dispatcher, updates, send, removeFiles: async () => undefined, limits: () => DEFAULT_LIMITS, logger: testLogger });
    events = new AgentEvents({ store, dispatcher, updates, manager, send, graceMs: 1000, removeFiles: async () => undefined, logger: testLogger });
    store.create(jobRecord('j1', { status: 'running', agent: WORKER, started: new Date().toISOString() }));
  });
  afterEach(async function () {
    events.stop();
    await temp.dispose();
  });

  const completed = (outputs: Extract<TerminalEvent, { type: 'completed' }>['outputs']): TerminalEvent => ({ v: 1, type: 'completed', job: 'j1', seq: 3, outputs });

  it('applies a result from the agent the job was handed to, and acknowledges it', function () {
    events.handle(WORKER, completed({ result: { value: 'ok' } }));
    expect(store.get('j1')).to.include({ status: 'successful' });
    expect(store.get('j1')!.results).to.deep.equal({ result: { value: 'ok' } });
    expect(sent).to.deep.equal([[WORKER, { v: 1, type: 'ack', job: 'j1', seq: 3 }]]);
  });

  it('ignores a result from another agent, but acknowledges it so that it stops resending', function () {
    events.handle(OTHER, completed({ result: { value: 'forged' } }));
    expect(store.get('j1')).to.include({ status: 'running', results: null });
    expect(sent).to.deep.equal([[OTHER, { v: 1, type: 'ack', job: 'j1', seq: 3 }]]);
  });

  it('refuses an output reference that is not where this server stores results', function () {
    events.handle(WORKER, completed({ map: { href: 'https://evil.example/map.tif', mediaType: 'image/tiff' } }));
    expect(store.get('j1')).to.include({ status: 'failed' });
    expect(store.get('j1')!.error).to.deep.equal({
      code: 'output',
      message: "output 'map' was reported at 'https://evil.example/map.tif', which is not where this server stores results",
    });
  });

  it('accepts a reference to the result this server stored', function () {
    events.handle(WORKER, completed({ map: { href: '/jobs/j1/results/map', mediaType: 'image/tiff', size: 3 } }));
    expect(store.get('j1')).to.include({ status: 'successful' });
  });

  it('stops a run another agent claims to have accepted', function () {
    events.handle(OTHER, { v: 1, type: 'accepted', job: 'j1', seq: 1 });
    expect(sent).to.deep.equal([[OTHER, { v: 1, type: 'kill', job: 'j1' }]]);
    expect(store.get('j1')!.agent).to.equal(WORKER);
  });
});
