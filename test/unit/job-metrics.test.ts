import { expect } from 'chai';
import { JobEventStream } from '../../src/jobs/job-events.js';
import { createMetrics, OTHER_PROCESSES } from '../../src/jobs/job-metrics.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { at, jobRecord } from '../helpers/job-records.js';

describe('job metrics', function () {
  it('gives the first processes series of their own and counts any further process under one label', async function () {
    const events = new JobEventStream();
    const metrics = createMetrics(events, new AgentRegistry(), () => 0, 2);
    const fail = (err: unknown) => {
      throw err;
    };
    for (const [i, processId] of ['a', 'b', 'a', 'c', 'd', 'b'].entries()) {
      const job = jobRecord(`j${i}`, { processId, status: 'successful', started: at(1), finished: at(3) });
      events.emit({ type: 'created', job }, fail);
      events.emit({ type: 'finished', job }, fail);
    }
    const text = await metrics.metrics();
    expect(text).to.include('outpost_jobs_submitted_total{process="a"} 2');
    expect(text).to.include('outpost_jobs_submitted_total{process="b"} 2');
    expect(text).to.include(`outpost_jobs_submitted_total{process="${OTHER_PROCESSES}"} 2`);
    expect(text).to.include(`outpost_jobs_finished_total{process="${OTHER_PROCESSES}",status="successful"} 2`);
    expect(text).to.include(`outpost_job_run_seconds_count{process="${OTHER_PROCESSES}"} 2`);
    expect(text).not.to.match(/process="[cd]"/);
  });
});
