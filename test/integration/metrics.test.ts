import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';

describe('/metrics', function () {
  let cluster: Cluster;
  let servicesDir: string;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeFile(path.join(servicesDir, 'ok.properties'), 'service = ok\nexecutable = /bin/echo\n');
    await writeFile(path.join(servicesDir, 'ko.properties'), 'service = ko\nexecutable = /bin/false\n');
    await cluster.addAgent('counted', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  it('counts submitted and finished jobs by process and status, and shows agents and the queue', async function () {
    const { lifecycle: jobs, jobStore: store } = cluster.orchestrator;
    const submit = async (processId: string) => (await jobs.submit({ processId, inputs: {}, execution: { response: 'document' }, owner: 'anonymous' })).id;
    const ids = await Promise.all([submit('ok'), submit('ok'), submit('ko')]);
    await eventually(() => (ids.every((id) => ['successful', 'failed'].includes(store.get(id)!.status)) ? true : undefined), 5000, 'jobs finished');
    const response = await cluster.adminApi(`${cluster.orchestrator.url}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).to.include('outpost_jobs_submitted_total{process="ok"} 2');
    expect(text).to.include('outpost_jobs_submitted_total{process="ko"} 1');
    expect(text).to.include('outpost_jobs_finished_total{process="ok",status="successful"} 2');
    expect(text).to.include('outpost_jobs_finished_total{process="ko",status="failed"} 1');
    expect(text).to.include('outpost_job_run_seconds_count{process="ok"} 2');
    expect(text).to.include('outpost_agents_online 1');
    expect(text).to.include('outpost_processes_offered 2');
    expect(text).to.include('outpost_jobs_waiting 0');
  });
});
