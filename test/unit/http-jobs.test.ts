import { expect } from 'chai';
import type { Link } from '../../src/http/links.js';
import { ERROR_TYPES } from '../../src/errors.js';
import { at, jobRecord, problemOf, spec, startHarness, type Harness, type JobListBody } from '../helpers/http-harness.js';

const NO_SUCH_JOB = 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job';

function seed(h: Harness): void {
  const jobs = [
    jobRecord('j1', {
      status: 'successful',
      created: at(0),
      started: at(1),
      finished: at(11),
      updated: at(11),
      progress: 100,
      message: 'done',
      results: { message: { value: 'hi' }, extra: { value: 1 } },
      execution: { response: 'document', outputs: { message: {} } },
    }),
    jobRecord('j2', {
      status: 'failed',
      created: at(100),
      started: at(100),
      finished: at(102),
      updated: at(102),
      message: 'step 2',
      error: { code: 'timeout', message: 'ran longer than 2 seconds' },
    }),
    jobRecord('j3', { processId: 'convert', status: 'running', created: at(200), started: at(200), updated: at(250), progress: 42.4 }),
    jobRecord('j4', { processId: 'convert', created: at(300), updated: at(300) }),
    jobRecord('j5', { processId: 'ns:tool', status: 'dismissed', created: at(400), started: at(400), finished: at(405), updated: at(405) }),
  ];
  for (const job of jobs) h.jobs.create(job);
}

describe('HTTP jobs', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo', { outputs: { message: { type: 'string' } } })]);
    seed(h);
  });
  afterEach(() => h.close());

  async function list(query: string): Promise<JobListBody> {
    const response = await h.api(`${h.url}/jobs${query}`);
    expect(response.status, await response.clone().text()).to.equal(200);
    return (await response.json()) as JobListBody;
  }
  const ids = (body: JobListBody) => body.jobs.map((j) => j.jobID);

  describe('list', () => {
    const cases: [string, string[]][] = [
      ['', ['j5', 'j4', 'j3', 'j2', 'j1']],
      ['?processID=echo', ['j2', 'j1']],
      ['?processID=echo,convert', ['j4', 'j3', 'j2', 'j1']],
      ['?processID=echo&processID=ns:tool', ['j5', 'j2', 'j1']],
      ['?status=successful,failed', ['j2', 'j1']],
      ['?status=running&status=accepted', ['j4', 'j3']],
      ['?type=process', ['j5', 'j4', 'j3', 'j2', 'j1']],
      [`?datetime=${at(100)}`, ['j2']],
      [`?datetime=${at(100)}/..`, ['j5', 'j4', 'j3', 'j2']],
      [`?datetime=../${at(100)}`, ['j2', 'j1']],
      [`?datetime=/${at(0)}`, ['j1']],
      [`?datetime=${at(100)}/${at(300)}`, ['j4', 'j3', 'j2']],
      ['?datetime=2024-05-01T14:01:40+02:00', ['j2']],
      ['?datetime=2024-05-01T14:01:40%2B02:00/..', ['j5', 'j4', 'j3', 'j2']],
      ['?minDuration=5', ['j5', 'j3', 'j1']],
      ['?maxDuration=5', ['j5', 'j2']],
      ['?minDuration=3&maxDuration=9', ['j5']],
      ['?processID=echo&status=failed', ['j2']],
    ];
    for (const [query, expected] of cases) {
      it(`filters ${query || 'nothing'}`, async () => {
        expect(ids(await list(query))).to.deep.equal(expected);
      });
    }

    it('pages with next and prev links that keep the filters', async () => {
      const first = await list('?processID=echo,convert&limit=2');
      expect(ids(first)).to.deep.equal(['j4', 'j3']);
      expect(first.links.map((l) => l.rel)).to.deep.equal(['self', 'next', 'alternate']);
      expect(first.links[0]!.href).to.equal(`${h.url}/jobs?processID=echo%2Cconvert&limit=2`);
      const next = first.links[1]!.href;
      expect(next).to.equal(`${h.url}/jobs?processID=echo%2Cconvert&limit=2&offset=2`);

      const second = (await (await h.api(next)).json()) as JobListBody;
      expect(ids(second)).to.deep.equal(['j2', 'j1']);
      expect(second.links.map((l) => l.rel)).to.deep.equal(['self', 'prev', 'alternate']);
      expect(second.links[1]!.href).to.equal(`${h.url}/jobs?processID=echo%2Cconvert&limit=2&offset=0`);
    });

    for (const [query, detail] of [
      ['status=done', "query parameter 'status' must be one of accepted, running, successful, failed, dismissed; got 'done'"],
      ['processID=', "query parameter 'processID' must not be empty"],
      ['type=other', "query parameter 'type' must be 'process'; got 'other'"],
      ['datetime=yesterday', /^query parameter 'datetime' must be an RFC 3339 date-time .*; got 'yesterday'$/],
      ['datetime=2024-05-01T12:00:00', /^query parameter 'datetime' must be an RFC 3339 date-time/],
      ['datetime=../..', "query parameter 'datetime' must be an instant or an interval 'start/end' with at least one end given; got '../..'"],
      ['datetime=a/b/c', /^query parameter 'datetime' must be an instant or an interval/],
      [`datetime=${at(10)}/${at(0)}`, `query parameter 'datetime' interval starts after it ends: '${at(10)}/${at(0)}'`],
      ['minDuration=-1', "query parameter 'minDuration' must be an integer of at least 0, got '-1'"],
      ['maxDuration=soon', "query parameter 'maxDuration' must be an integer of at least 0, got 'soon'"],
      ['minDuration=9&maxDuration=3', "query parameter 'minDuration' (9) must not exceed maxDuration (3)"],
      ['limit=0', "query parameter 'limit' must be an integer from 1 to 1000, got '0'"],
    ] as const) {
      it(`refuses ${query}`, async () => {
        const response = await h.api(`${h.url}/jobs?${query}`);
        expect(response.status).to.equal(400);
        const problem = await problemOf(response);
        expect(problem.type).to.equal(ERROR_TYPES['invalid-parameter']);
        if (typeof detail === 'string') expect(problem.detail).to.equal(detail);
        else expect(problem.detail).to.match(detail);
      });
    }
  });

  describe('status', () => {
    it('describes a finished job with a link to its results', async () => {
      const body = await (await h.api(`${h.url}/jobs/j1`)).json();
      expect(body).to.deep.equal({
        jobID: 'j1',
        processID: 'echo',
        type: 'process',
        status: 'successful',
        message: 'done',
        created: at(0),
        started: at(1),
        finished: at(11),
        updated: at(11),
        progress: 100,
        links: [
          { href: `${h.url}/jobs/j1`, rel: 'self', type: 'application/json', title: 'job status' },
          { href: `${h.url}/jobs/j1?f=html`, rel: 'alternate', type: 'text/html', title: 'job status as HTML' },
          { href: `${h.url}/jobs/j1/results`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/results', type: 'application/json', title: 'job results' },
        ],
      });
    });

    it('leaves out what has not happened yet, and says why a job failed', async () => {
      const running = (await (await h.api(`${h.url}/jobs/j3`)).json()) as Record<string, unknown>;
      expect(running).to.not.have.any.keys('finished', 'message');
      expect(running).to.include({ status: 'running', progress: 42, started: at(200) });
      expect((running['links'] as Link[]).map((l) => l.rel)).to.deep.equal(['self', 'alternate']);
      const failed = (await (await h.api(`${h.url}/jobs/j2`)).json()) as Record<string, unknown>;
      expect(failed['message']).to.equal('ran longer than 2 seconds');
    });

    it('answers an unknown job with no-such-job', async () => {
      const response = await h.api(`${h.url}/jobs/nope`);
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.deep.equal({ type: NO_SUCH_JOB, title: 'No such job', status: 404, detail: "job 'nope' does not exist" });
    });
  });

  describe('results', () => {
    it('answers the requested outputs of a successful job', async () => {
      const response = await h.api(`${h.url}/jobs/j1/results`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ message: 'hi' });
    });

    it('answers raw results as they were asked for', async () => {
      h.jobs.create(
        jobRecord('raw', { status: 'successful', execution: { response: 'raw' }, results: { message: { value: 'plain' } } }),
      );
      const response = await h.api(`${h.url}/jobs/raw/results`);
      expect(response.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
      expect(await response.text()).to.equal('plain');
    });

    for (const id of ['j3', 'j4']) {
      it(`answers result-not-ready for an unfinished job (${id})`, async () => {
        const response = await h.api(`${h.url}/jobs/${id}/results`);
        expect(response.status).to.equal(404);
        const status = id === 'j3' ? 'running' : 'accepted';
        expect(await problemOf(response)).to.deep.equal({
          type: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready',
          title: 'Result not ready',
          status: 404,
          detail: `job '${id}' is ${status}; its results are not ready yet`,
        });
      });
    }

    it("answers a failed job's results with its failure", async () => {
      const response = await h.api(`${h.url}/jobs/j2/results`);
      expect(response.status).to.equal(500);
      expect(await problemOf(response)).to.deep.include({
        type: ERROR_TYPES['job-failed'],
        detail: "job 'j2' failed (timeout): ran longer than 2 seconds",
        failure: { code: 'timeout' },
      });
    });

    it('answers a job without agents to run it with 503', async () => {
      h.jobs.create(jobRecord('lost', { status: 'failed', error: { code: 'agent-lost', message: 'agent went away' } }));
      expect((await h.api(`${h.url}/jobs/lost/results`)).status).to.equal(503);
    });

    it('answers a dismissed job with no-such-job', async () => {
      const response = await h.api(`${h.url}/jobs/j5/results`);
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.include({ type: NO_SUCH_JOB, detail: "job 'j5' was dismissed; it has no results" });
    });
  });

  describe('dismiss', () => {
    it('dismisses through the job service and answers the dismissed status', async () => {
      const response = await h.api(`${h.url}/jobs/j3`, { method: 'DELETE' });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.include({ jobID: 'j3', status: 'dismissed' });
      expect(h.jobService.dismissed).to.deep.equal(['j3']);
      expect((await h.api(`${h.url}/jobs/j3`)).status).to.equal(404);
    });

    it('answers an unknown job with no-such-job without calling the job service', async () => {
      const response = await h.api(`${h.url}/jobs/nope`, { method: 'DELETE' });
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.include({ type: NO_SUCH_JOB, detail: "job 'nope' does not exist" });
      expect(h.jobService.dismissed).to.deep.equal([]);
    });
  });

  describe('admin kill', () => {
    it('kills through the job service in the name of admin and keeps the job', async () => {
      const response = await h.adminApi(`${h.url}/admin/jobs/j3/kill`, { method: 'POST' });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { job: Record<string, unknown>; dismissedBy: string };
      expect(body.dismissedBy).to.equal('admin');
      expect(body.job).to.deep.include({ jobID: 'j3', status: 'dismissed', message: 'dismissed by admin' });
      expect(h.jobService.killed).to.deep.equal([['j3', 'admin']]);
      expect(await (await h.api(`${h.url}/jobs/j3`)).json()).to.deep.include({ status: 'dismissed', message: 'dismissed by admin' });
    });
  });
});
