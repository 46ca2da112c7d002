import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord } from '../../src/store/job-record.js';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { problemOf } from '../helpers/http-harness.js';
import { copyExamples } from '../helpers/examples.js';
import { fixture } from '../helpers/paths.js';
import { readPidFile, trackChildren, waitUntilGone } from '../helpers/process-tree.js';

interface StatusInfo {
  jobID: string;
  status: string;
  progress: number;
  message?: string;
}

/** The agent's grace between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 300;

describe('run control: following and killing runs on a real agent', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  let agent: TestAgent;
  let newChildren: () => number[];

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow');
    // Both record their pid and their background sleep's pid in the job's work directory.
    await writeFile(path.join(servicesDir, 'tree.properties'), `service = tree\nexecutable = ${fixture('bin', 'sleep-tree.sh')}\n`);
    await writeFile(path.join(servicesDir, 'stubborn.properties'), `service = stubborn\nexecutable = ${fixture('bin', 'ignore-term.sh')}\n`);
    // One slot, so that a second job waits in the queue.
    agent = await cluster.addAgent('worker', servicesDir, { slots: 1, killGraceMs: KILL_GRACE_MS });
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });
  beforeEach(function () {
    newChildren = trackChildren();
  });
  afterEach(async function () {
    await Promise.all(cluster.orchestrator.jobStore.unfinished().map((job) => cluster.orchestrator.lifecycle.stop(job.id, null)));
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const json = async <T>(response: Response) => (await response.json()) as T;
  const submit = async (process: string, inputs: Record<string, unknown> = {}) => {
    const response = await cluster.api(url(`/processes/${process}/execution`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify({ inputs }),
    });
    expect(response.status).to.equal(201);
    return (await json<StatusInfo>(response)).jobID;
  };
  const record = (jobId: string) => cluster.orchestrator.jobStore.get(jobId);
  const untilStatus = (jobId: string, status: JobRecord['status']) =>
    eventually(() => (record(jobId)?.status === status ? record(jobId) : undefined), 5000, `job ${jobId} ${status}`);
  const kill = (jobId: string) => cluster.adminApi(url(`/admin/jobs/${jobId}/kill`), { method: 'POST' });
  /** The program's pid and its background sleep's pid, once both are written. */
  const treePids = async (jobId: string) => {
    const workDir = path.join(agent.workDir, 'jobs', jobId);
    return [await readPidFile(path.join(workDir, 'parent.pid')), await readPidFile(path.join(workDir, 'child.pid'))] as const;
  };

  /**
   * The program and its child are dead by `deadline`, and nothing of ours is left: the program
   * was reaped by the agent (no zombie of ours). The orphaned sleep belongs to init once its
   * parent died; a zombie of it awaiting init's reaping counts as gone.
   */
  async function expectTreeGone(pids: readonly number[], deadline: number): Promise<void> {
    for (const pid of pids) expect(await waitUntilGone(pid, Math.max(0, deadline - Date.now())), `pid ${pid} still running`).to.equal(true);
    expect(existsSync(`/proc/${pids[0]}`), 'program not reaped').to.equal(false);
    expect(newChildren()).to.deep.equal([]);
  }

  it('streams each progress step in order, then the success, then ends', async function () {
    const jobId = await submit('slow', { steps: 10, interval: 0.3 });
    const response = await cluster.api(url(`/jobs/${jobId}/events`));
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    const events = await new EventStreamReader(response).rest(15_000);
    expect(events.map((e) => [e.event, e.id])).to.deep.equal(events.map((_, i) => ['status', String(i + 1)]));
    const statuses = events.map((e) => JSON.parse(e.data) as StatusInfo);
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // Before the first step: the job as it was on connecting, then running, all at 0 %.
    const before = statuses.slice(0, -11);
    expect(before.length).to.be.greaterThan(0);
    expect(before.filter((s) => !['accepted', 'running'].includes(s.status) || s.progress !== 0)).to.deep.equal([]);
    expect(statuses.slice(-11, -1).map((s) => [s.status, s.progress, s.message])).to.deep.equal(
      steps.map((i) => ['running', i * 10, `step ${i} of 10`]),
    );
    expect(statuses.at(-1)).to.deep.include({ jobID: jobId, status: 'successful', progress: 100 });
    expect(cluster.orchestrator.updates.listenerCount(jobId)).to.equal(0);
  });

  it('kills the program and its child within a second of DELETE, and removes the job', async function () {
    const jobId = await submit('tree');
    const pids = await treePids(jobId);
    const asked = Date.now();
    const response = await cluster.api(url(`/jobs/${jobId}`), { method: 'DELETE' });
    expect(response.status).to.equal(200);
    expect(await json(response)).to.deep.include({ jobID: jobId, status: 'dismissed' });
    await expectTreeGone(pids, asked + 1000);
    expect((await cluster.api(url(`/jobs/${jobId}`))).status).to.equal(404);
  });

  it('kills the program and its child within a second of an admin kill, and keeps the job as dismissed by admin', async function () {
    const jobId = await submit('tree');
    const pids = await treePids(jobId);
    await untilStatus(jobId, 'running');
    const stream = new EventStreamReader(await cluster.api(url(`/jobs/${jobId}/events`)));
    expect(JSON.parse((await stream.next())!.data)).to.deep.include({ status: 'running' });
    const asked = Date.now();
    const response = await kill(jobId);
    expect(response.status).to.equal(200);
    const body = await json<{ job: StatusInfo; dismissedBy: string }>(response);
    expect(body.dismissedBy).to.equal('admin');
    expect(body.job).to.deep.include({ jobID: jobId, status: 'dismissed', message: 'dismissed by admin' });
    await expectTreeGone(pids, asked + 1000);

    expect(await json(await cluster.api(url(`/jobs/${jobId}`)))).to.deep.include({ status: 'dismissed', message: 'dismissed by admin' });
    expect(record(jobId)).to.deep.include({ status: 'dismissed', dismissedBy: 'admin' });
    const last = await stream.rest();
    expect(last.map((e) => JSON.parse(e.data) as StatusInfo).map((s) => [s.status, s.message])).to.deep.equal([['dismissed', 'dismissed by admin']]);
    expect(cluster.orchestrator.updates.listenerCount(jobId)).to.equal(0);
  });

  it('SIGKILLs a program that ignores SIGTERM once the grace period is over', async function () {
    const jobId = await submit('stubborn');
    const pids = await treePids(jobId);
    const asked = Date.now();
    const response = await kill(jobId);
    // The agent confirms only once the program has died, which SIGTERM alone does not achieve.
    expect(Date.now() - asked).to.be.at.least(KILL_GRACE_MS);
    expect(response.status).to.equal(200);
    expect((await json<{ job: StatusInfo }>(response)).job.status).to.equal('dismissed');
    await expectTreeGone(pids, asked + 1000);
  });

  describe('a job waiting in the queue', function () {
    let busy: string;
    let changes: JobRecord[];
    let unsubscribe: () => void;

    beforeEach(async function () {
      busy = await submit('tree');
      await untilStatus(busy, 'running');
      // The agent keeps one job per slot waiting (docs/protocol.md §2.1, queue): the next one stays with the orchestrator.
      const held = await submit('tree');
      await eventually(() => record(held)?.agent ?? undefined, 2000, 'a job waiting on the agent');
      changes = [];
      unsubscribe = () => undefined;
    });
    afterEach(function () {
      unsubscribe();
    });

    /** A job queued behind `busy`, with every change of it recorded. */
    const queue = async () => {
      const jobId = await submit('tree');
      unsubscribe = cluster.orchestrator.updates.subscribe(jobId, (job) => changes.push(job));
      expect(record(jobId)).to.deep.include({ status: 'accepted', agent: null });
      return jobId;
    };

    it('is killed without an agent: it leaves the queue, dismissed by admin, and never runs', async function () {
      const jobId = await queue();
      const response = await kill(jobId);
      expect(response.status).to.equal(200);
      expect(await json(response)).to.deep.include({ dismissedBy: 'admin' });
      expect(record(jobId)).to.deep.include({ status: 'dismissed', dismissedBy: 'admin', agent: null, started: null });
      // The slot it waited for frees up, and it is not handed to the agent.
      expect((await kill(busy)).status).to.equal(200);
      expect(record(jobId)).to.deep.include({ status: 'dismissed', agent: null });
      expect(changes.map((job) => [job.status, job.agent])).to.deep.equal([['dismissed', null]]);
    });

    it('is dismissed by DELETE without an agent, and the running job goes on', async function () {
      const jobId = await queue();
      const response = await cluster.api(url(`/jobs/${jobId}`), { method: 'DELETE' });
      expect(response.status).to.equal(200);
      expect(await json(response)).to.deep.include({ jobID: jobId, status: 'dismissed' });
      expect(changes.map((job) => [job.status, job.agent, job.dismissedBy])).to.deep.equal([['dismissed', null, null]]);
      expect((await cluster.api(url(`/jobs/${jobId}`))).status).to.equal(404);
      expect(record(busy)).to.deep.include({ status: 'running' });
    });
  });

  it('refuses to kill a finished job, and changes nothing', async function () {
    const jobId = await submit('slow', { steps: 1, interval: 0 });
    const done = await untilStatus(jobId, 'successful');
    const response = await kill(jobId);
    expect(response.status).to.equal(409);
    expect(await problemOf(response)).to.deep.equal({
      type: 'urn:outpost:error:job-finished',
      title: 'Job finished',
      status: 409,
      detail: `job '${jobId}' already finished (successful); there is nothing to kill`,
    });
    expect(record(jobId)).to.deep.equal(done);
  });

  it('answers a kill of an unknown job with no-such-job', async function () {
    const response = await kill('3f0c1a52-0000-4000-8000-000000000000');
    expect(response.status).to.equal(404);
    expect(await problemOf(response)).to.deep.equal({
      type: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job',
      title: 'No such job',
      status: 404,
      detail: "job '3f0c1a52-0000-4000-8000-000000000000' does not exist",
    });
  });
});
