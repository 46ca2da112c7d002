import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { postExecute } from '../helpers/api.js';
import { copyExamples } from '../helpers/examples.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';


interface StatusInfo {
  jobID: string;
  processID: string;
  status: string;
  progress?: number;
  message?: string;
}
interface Exception {
  type: string;
  title: string;
  status: number;
  detail: string;
}

describe('OGC API – Processes: execution through a real agent', function () {
  let cluster: Cluster;
  let servicesDir: string;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'echo', 'slow', 'fail');
    await cluster.addAgent('worker', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const execute = (process: string, body: unknown, headers: Record<string, string> = {}) => postExecute(cluster.api, cluster.orchestrator.url, process, body, headers);
  const json = async <T>(response: Response) => (await response.json()) as T;
  const jobCount = () => cluster.orchestrator.jobStore.list({ limit: 1000, offset: 0 }).jobs.length;
  const waitForStatus = (jobId: string, status: string, timeoutMs = 5000) =>
    eventually(async () => {
      const info = await json<StatusInfo>(await cluster.api(url(`/jobs/${jobId}`)));
      return info.status === status ? info : undefined;
    }, timeoutMs, `job ${jobId} ${status}`);

  it('runs echo synchronously and answers the input raw, or as a results document', async function () {
    const raw = await execute('echo', { inputs: { echo: 'Hello, Outpost' } });
    expect(raw.status).to.equal(200);
    expect(raw.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await raw.text()).to.equal('Hello, Outpost');
    expect(raw.headers.get('location')).to.match(/\/jobs\/[0-9a-f-]{36}$/);

    const document = await execute('echo', { inputs: { echo: 'as a document', pause: 0.05 }, response: 'document' });
    expect(document.status).to.equal(200);
    expect(await document.json()).to.deep.equal({ echo: 'as a document' });
  });

  it('runs echo asynchronously: 201, Location, then results', async function () {
    const created = await execute('echo', { inputs: { echo: 'later', pause: 0.2 } }, { Prefer: '  respond-async ;  wait=10 ' });
    expect(created.status).to.equal(201);
    const info = await json<StatusInfo>(created);
    expect(created.headers.get('location')).to.equal(url(`/jobs/${info.jobID}`));
    expect(info).to.include({ processID: 'echo', status: 'accepted' });
    const notReady = await cluster.api(url(`/jobs/${info.jobID}/results`));
    expect(notReady.status).to.equal(404);
    expect((await json<Exception>(notReady)).type).to.equal('http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready');
    await waitForStatus(info.jobID, 'successful');
    const results = await cluster.api(url(`/jobs/${info.jobID}/results`));
    expect(await results.text()).to.equal('later');
  });

  it('gives shell metacharacters to the program as literal text', async function () {
    const marker = path.join(os.tmpdir(), `outpost-pwned-${process.pid}`);
    const text = `; rm -rf / && touch ${marker}\n$(touch ${marker}) \`touch ${marker}\` "double" 'single' | > < & * ~ \\ $HOME\nsecond line`;
    const response = await execute('echo', { inputs: { echo: text }, response: 'document' });
    expect(await response.json()).to.deep.equal({ echo: text });
    expect(existsSync(marker)).to.equal(false);
  });

  it('reports progress while running and 100 at the end', async function () {
    const created = await json<StatusInfo>(await execute('slow', { inputs: { steps: 4, interval: 0.15 } }, { Prefer: 'respond-async' }));
    const midway = await eventually(async () => {
      const info = await json<StatusInfo>(await cluster.api(url(`/jobs/${created.jobID}`)));
      return info.status === 'running' && (info.progress ?? 0) > 0 ? info : undefined;
    }, 3000, 'progress');
    expect(midway.message).to.match(/^step \d of 4$/);
    const done = await waitForStatus(created.jobID, 'successful');
    expect(done.progress).to.equal(100);
    expect(await json(await cluster.api(url(`/jobs/${created.jobID}/results`)))).to.deep.equal({ steps: 4 });
  });

  it('answers a failing program with its exit code and the last line of stderr', async function () {
    const response = await execute('fail', {});
    expect(response.status).to.equal(500);
    const body = await json<Exception & { failure: { code: string; exitCode: number } }>(response);
    expect(body.detail).to.include('exited with code 3: error: input file is corrupt');
    expect(body.failure).to.deep.include({ code: 'exit', exitCode: 3 });
    expect(JSON.stringify(body)).not.to.include('reading input');
  });

  it('dismisses a running job: the run is stopped and the job is gone', async function () {
    const created = await json<StatusInfo>(await execute('slow', { inputs: { steps: 100, interval: 0.2 } }, { Prefer: 'respond-async' }));
    await waitForStatus(created.jobID, 'running');
    const dismissed = await cluster.api(url(`/jobs/${created.jobID}`), { method: 'DELETE' });
    expect(dismissed.status).to.equal(200);
    expect((await json<StatusInfo>(dismissed)).status).to.equal('dismissed');
    expect((await cluster.api(url(`/jobs/${created.jobID}`))).status).to.equal(404);
  });

  describe('bad requests get the right 4xx and change nothing', function () {
    const cases: [string, string, unknown, number, string, RegExp | string][] = [
      ['an unknown process', 'nope', { inputs: {} }, 404, 'no-such-process', "process 'nope' is not offered by any agent"],
      ['a wrong input type', 'echo', { inputs: { echo: 42 } }, 400, 'invalid-input', "input 'echo' must be string"],
      ['an unknown input', 'echo', { inputs: { echo: 'x', colour: 'red' } }, 400, 'invalid-input', "unknown input 'colour'"],
      ['a missing required input', 'echo', { inputs: {} }, 400, 'invalid-input', "missing required input 'echo'"],
      ['an out-of-range value', 'echo', { inputs: { echo: 'x', pause: 61 } }, 400, 'invalid-input', "input 'pause' must be <= 60"],
      ['an unknown output', 'echo', { inputs: { echo: 'x' }, outputs: { other: {} } }, 400, 'bad-request', "'outputs' names 'other', which process 'echo' does not have; its outputs are: echo"],
    ];
    for (const [what, process, body, status, code, detail] of cases) {
      it(`refuses ${what}`, async function () {
        const before = jobCount();
        const response = await execute(process, body);
        expect(response.status).to.equal(status);
        const exception = await json<Exception>(response);
        expect(exception.type.endsWith(`/${code}`) || exception.type.endsWith(`:${code}`), exception.type).to.equal(true);
        if (typeof detail === 'string') expect(exception.detail).to.equal(detail);
        else expect(exception.detail).to.match(detail);
        expect(jobCount()).to.equal(before);
      });
    }

    it('refuses invalid JSON and an oversized body', async function () {
      const before = jobCount();
      const invalid = await cluster.api(url('/processes/echo/execution'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": {' });
      expect(invalid.status).to.equal(400);
      expect((await json<Exception>(invalid)).detail).to.match(/JSON/);
      const huge = await execute('echo', { inputs: { echo: 'x'.repeat(2 * 1024 * 1024) } });
      expect(huge.status).to.equal(413);
      expect((await json<Exception>(huge)).type).to.match(/payload-too-large$/);
      expect(jobCount()).to.equal(before);
    });
  });

  it('lists jobs with the job-list filters and paging', async function () {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json<StatusInfo>(await execute('echo', { inputs: { echo: `n${i}` } }, { Prefer: 'respond-async' }))).jobID);
    for (const id of ids) await waitForStatus(id, 'successful');
    const failed = await json<{ jobs: StatusInfo[] }>(await cluster.api(url('/jobs?processID=fail&status=failed')));
    expect(failed.jobs.map((j) => j.processID)).to.deep.equal(['fail']);
    const page = await json<{ jobs: StatusInfo[]; links: { rel: string; href: string }[] }>(await cluster.api(url('/jobs?processID=echo&limit=2')));
    expect(page.jobs.map((j) => j.jobID)).to.deep.equal([ids[2], ids[1]]);
    const next = page.links.find((l) => l.rel === 'next');
    expect(next).to.not.equal(undefined);
    const second = await json<{ jobs: StatusInfo[] }>(await cluster.api(next!.href));
    expect(second.jobs.map((j) => j.jobID)).to.include(ids[0]);
    const bad = await cluster.api(url('/jobs?limit=0'));
    expect(bad.status).to.equal(400);
  });

  it('keeps finished jobs and their results across an orchestrator restart', async function () {
    const created = await json<StatusInfo>(await execute('echo', { inputs: { echo: 'survives' } }, { Prefer: 'respond-async' }));
    await waitForStatus(created.jobID, 'successful');
    await cluster.restartOrchestrator();
    const info = await json<StatusInfo>(await cluster.api(url(`/jobs/${created.jobID}`)));
    expect(info.status).to.equal('successful');
    expect(await (await cluster.api(url(`/jobs/${created.jobID}/results`))).text()).to.equal('survives');
    // The agent is asked to announce itself again, and serves new jobs.
    await eventually(() => cluster.orchestrator.registry.process('echo'), 5000, 'echo offered again');
    expect(await (await execute('echo', { inputs: { echo: 'after restart' } })).text()).to.equal('after restart');
  });
});
