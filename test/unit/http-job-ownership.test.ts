import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { TEST_ADMIN, TEST_USER, withToken } from '../helpers/api.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

const done = { status: 'successful' as const, progress: 100, results: { message: { value: 'hi' } } };

describe('HTTP job ownership', () => {
  let h: Harness;
  let asBob: typeof fetch;

  beforeEach(async () => {
    h = await startHarness([spec('echo', { outputs: { message: { type: 'string' } } })], { access: { anonymousRead: true, anonymousExecute: true } });
    await h.users.create('bob', 'user');
    asBob = withToken((await h.users.issueToken('bob', null)).token);
    h.jobs.create(jobRecord('mine', { ...done, owner: TEST_USER }));
    h.jobs.create(jobRecord('bobs', { ...done, owner: 'bob' }));
    h.jobs.create(jobRecord('nobodys', { ...done, owner: 'anonymous' }));
  });
  afterEach(() => h.close());

  const listed = async (caller: typeof fetch) => ((await (await caller(`${h.url}/jobs`)).json()) as { jobs: { jobID: string }[] }).jobs.map((j) => j.jobID);

  it('lists only the caller’s own jobs, also for admins and callers without a token', async () => {
    expect(await listed(h.api)).to.deep.equal(['mine']);
    expect(await listed(asBob)).to.deep.equal(['bobs']);
    expect(await listed(h.adminApi)).to.deep.equal([]);
    expect(await listed(fetch)).to.deep.equal(['nobodys']);
  });

  for (const [what, method, path] of [
    ['status', 'GET', ''],
    ['results', 'GET', '/results'],
    ['one output', 'GET', '/results/message'],
    ['events', 'GET', '/events'],
    ['dismissal', 'DELETE', ''],
  ] as const) {
    it(`answers another user’s job like a missing one: ${what}`, async () => {
      for (const [caller, name] of [[h.api, TEST_USER], [h.adminApi, TEST_ADMIN], [fetch, 'anonymous']] as const) {
        const response = await caller(`${h.url}/jobs/bobs${path}`, { method });
        expect(response.status, name).to.equal(404);
        const problem = await problemOf(response);
        expect([problem.type, problem.detail], name).to.deep.equal([ERROR_TYPES['no-such-job'], "job 'bobs' does not exist"]);
      }
      expect(h.jobService.dismissed).to.deep.equal([]);
      expect((await asBob(`${h.url}/jobs/bobs${path}`, { method })).status).to.equal(200);
    });
  }
});
