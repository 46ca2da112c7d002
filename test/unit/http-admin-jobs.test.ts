import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { at, jobRecord, problemOf, spec, startHarness, type Harness, type JobListBody } from '../helpers/http-harness.js';

const WORKER = 'worker@example.org';

function seed(h: Harness): void {
  const jobs = [
    jobRecord('j1', {
      owner: 'alice',
      agent: `${WORKER}/a`,
      status: 'successful',
      inputs: { message: 'hi' },
      created: at(0),
      started: at(1),
      finished: at(3),
      updated: at(3),
      progress: 100,
      results: { message: { value: 'hi' }, report: { href: '/jobs/j1/results/report', mediaType: 'text/csv', size: 3 } },
    }),
    jobRecord('j2', {
      owner: 'bob',
      agent: `${WORKER}/b`,
      processId: 'convert',
      status: 'failed',
      inputs: { file: 'a.tif' },
      created: at(100),
      started: at(100),
      finished: at(102),
      updated: at(102),
      error: { code: 'exit', message: 'exited with code 2', exitCode: 2, stderr: 'convert: no such file\n' },
    }),
    jobRecord('j3', { owner: 'alice', agent: `${WORKER}/a`, processId: 'convert', status: 'running', created: at(200), started: at(200), updated: at(250), progress: 42.4 }),
    jobRecord('j4', { owner: 'carol', created: at(300), updated: at(300) }),
    jobRecord('j5', {
      owner: 'bob',
      agent: 'other@example.org/a',
      status: 'dismissed',
      dismissedBy: 'admin',
      created: at(400),
      started: at(400),
      finished: at(405),
      updated: at(405),
    }),
  ];
  for (const job of jobs) h.jobs.create(job);
}

describe('HTTP admin jobs', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo')]);
    seed(h);
  });
  afterEach(() => h.close());

  async function list(query: string): Promise<JobListBody> {
    const response = await h.adminApi(`${h.url}/admin/jobs${query}`);
    expect(response.status, await response.clone().text()).to.equal(200);
    return (await response.json()) as JobListBody;
  }
  const ids = (body: JobListBody) => body.jobs.map((j) => j.jobID);

  describe('list', () => {
    const cases: [string, string[]][] = [
      ['', ['j5', 'j4', 'j3', 'j2', 'j1']],
      ['?user=alice', ['j3', 'j1']],
      ['?user=nobody', []],
      [`?agent=${WORKER}`, ['j3', 'j2', 'j1']],
      [`?agent=${encodeURIComponent(`${WORKER}/a`)}`, ['j3', 'j1']],
      ['?processID=convert', ['j3', 'j2']],
      ['?status=accepted,running', ['j4', 'j3']],
      ['?user=bob&status=failed,dismissed', ['j5', 'j2']],
      [`?user=alice&agent=${WORKER}&processID=echo`, ['j1']],
      [`?datetime=${at(100)}/..&user=bob`, ['j5', 'j2']],
    ];
    for (const [query, expected] of cases) {
      it(`filters ${query || 'nothing'} over the jobs of all users`, async () => {
        expect(ids(await list(query))).to.deep.equal(expected);
      });
    }

    it('shows each job with its owner, agent and who dismissed it, linked to the admin view', async () => {
      const [job] = (await list('?user=bob&status=dismissed')).jobs;
      expect(job).to.deep.equal({
        jobID: 'j5',
        processID: 'echo',
        type: 'process',
        status: 'dismissed',
        message: 'dismissed by admin',
        created: at(400),
        started: at(400),
        finished: at(405),
        updated: at(405),
        progress: 0,
        links: [{ href: `${h.url}/admin/jobs/j5`, rel: 'self', type: 'application/json', title: 'job, admin view' }],
        owner: 'bob',
        agent: 'other@example.org/a',
        dismissedBy: 'admin',
      });
    });

    it('pages with next and prev links that keep the filters', async () => {
      const first = await list(`?agent=${WORKER}&limit=2`);
      expect(ids(first)).to.deep.equal(['j3', 'j2']);
      expect(first.links.map((l) => [l.rel, l.href])).to.deep.equal([
        ['self', `${h.url}/admin/jobs?agent=worker%40example.org&limit=2`],
        ['next', `${h.url}/admin/jobs?agent=worker%40example.org&limit=2&offset=2`],
      ]);
      const second = (await (await h.adminApi(first.links[1]!.href)).json()) as JobListBody;
      expect(ids(second)).to.deep.equal(['j1']);
      expect(second.links.map((l) => [l.rel, l.href])).to.deep.equal([
        ['self', `${h.url}/admin/jobs?agent=worker%40example.org&limit=2&offset=2`],
        ['prev', `${h.url}/admin/jobs?agent=worker%40example.org&limit=2&offset=0`],
      ]);
    });

    for (const [query, detail] of [
      ['user=', "query parameter 'user' must not be empty"],
      ['agent=%20', "query parameter 'agent' must not be empty"],
      ['user=alice&user=bob', "query parameter 'user' must be given at most once"],
      ['status=done', "query parameter 'status' must be one of accepted, running, successful, failed, dismissed; got 'done'"],
      ['limit=1001', "query parameter 'limit' must be an integer from 1 to 1000, got '1001'"],
    ] as const) {
      it(`refuses ${query}`, async () => {
        const response = await h.adminApi(`${h.url}/admin/jobs?${query}`);
        expect(response.status).to.equal(400);
        expect(await problemOf(response)).to.include({ type: ERROR_TYPES['invalid-parameter'], detail });
      });
    }
  });

  describe('detail', () => {
    it('shows the whole record of a failed job, with the stderr tail clients never see', async () => {
      const response = await h.adminApi(`${h.url}/admin/jobs/j2`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({
        jobID: 'j2',
        processID: 'convert',
        type: 'process',
        status: 'failed',
        message: 'exited with code 2',
        created: at(100),
        started: at(100),
        finished: at(102),
        updated: at(102),
        progress: 0,
        links: [{ href: `${h.url}/admin/jobs/j2`, rel: 'self', type: 'application/json', title: 'job, admin view' }],
        owner: 'bob',
        agent: `${WORKER}/b`,
        dismissedBy: null,
        inputs: { file: 'a.tif' },
        execution: { response: 'document' },
        results: null,
        error: { code: 'exit', message: 'exited with code 2', exitCode: 2, stderr: 'convert: no such file\n' },
      });
    });

    it('shows results with the links of uploaded files made absolute', async () => {
      const body = (await (await h.adminApi(`${h.url}/admin/jobs/j1`)).json()) as Record<string, unknown>;
      expect(body['results']).to.deep.equal({
        message: { value: 'hi' },
        report: { href: `${h.url}/jobs/j1/results/report`, mediaType: 'text/csv', size: 3 },
      });
      expect(body).to.deep.include({ owner: 'alice', inputs: { message: 'hi' }, error: null });
    });

    it('answers an unknown job with no-such-job', async () => {
      const response = await h.adminApi(`${h.url}/admin/jobs/nope`);
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.include({ type: ERROR_TYPES['no-such-job'], detail: "job 'nope' does not exist" });
    });
  });

  it('is behind the admin guard', async () => {
    const asUser = await h.api(`${h.url}/admin/jobs/j1`);
    expect(asUser.status).to.equal(403);
    expect(await problemOf(asUser)).to.include({ detail: "the admin API needs an admin token; user 'alice' has role 'user'" });
    expect((await fetch(`${h.url}/admin/jobs`)).status).to.equal(401);
  });
});
