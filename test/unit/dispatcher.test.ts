import { expect } from 'chai';
import { Dispatcher } from '../../src/jobs/dispatcher.js';
import type { OrchestratorMessage, ProcessSpec } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import type { JobRecord } from '../../src/store/job-record.js';
import { testLogger } from '../helpers/logger.js';
import { jobRecord } from '../helpers/job-records.js';

const LOAD = { slots: 1, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h', draining: false };
const noop = (version: string): ProcessSpec => ({ id: 'noop', keywords: [], version, inputs: {}, outputs: { result: { type: 'string' } }, maxParallel: 1, file: 'noop.properties' });

describe('Dispatcher', function () {
  let registry: AgentRegistry;
  let sent: [string, OrchestratorMessage][];
  let jobs: Map<string, JobRecord>;
  let dispatcher: Dispatcher;

  beforeEach(function () {
    registry = new AgentRegistry();
    sent = [];
    jobs = new Map();
    dispatcher = new Dispatcher({
      registry,
      send: async (jid, message) => void sent.push([jid, message]),
      load: (id) => jobs.get(id),
      assigned: () => undefined,
      uploadFor: (id) => ({ url: `http://127.0.0.1/uploads/${id}`, token: 't' }),
      undeliverable: () => undefined,
      logger: testLogger,
    });
  });

  function offer(jid: string, version: string): void {
    registry.updatePresence(jid, LOAD, 'fleet');
    registry.setCatalog(jid, 'h', [noop(version)], []);
  }
  function submit(id: string): void {
    const job = jobRecord(id, { processId: 'noop' });
    jobs.set(id, job);
    dispatcher.enqueue(job);
  }
  const executes = () => sent.filter(([, m]) => m.type === 'execute').map(([jid, m]) => [jid, (m as { job: string }).job]);

  it('sends work only to agents offering the newest description of a process', function () {
    offer('old@example.org/a', '1.5.0');
    offer('new@example.org/a', '2.0.0');
    submit('j1');
    submit('j2');
    expect(executes()).to.deep.equal([['new@example.org/a', 'j1']]);
    expect(dispatcher.isQueued('j2')).to.equal(true);
  });

  it('moves a job an agent refused as busy to another agent', function () {
    offer('a@example.org/a', '1.0.0');
    offer('b@example.org/a', '1.0.0');
    submit('j1');
    expect(executes()).to.deep.equal([['a@example.org/a', 'j1']]);
    dispatcher.requeue('j1', 'a@example.org/a');
    expect(executes()).to.deep.equal([['a@example.org/a', 'j1'], ['b@example.org/a', 'j1']]);
    expect(dispatcher.assignment('j1')?.agent).to.equal('b@example.org/a');
  });

  it('carries the job, its process, inputs and upload address in execute', function () {
    offer('a@example.org/a', '1.0.0');
    submit('j1');
    expect(sent[0]![1]).to.deep.equal({ v: 1, type: 'execute', job: 'j1', process: 'noop', inputs: {}, upload: { url: 'http://127.0.0.1/uploads/j1', token: 't' } });
  });
});
