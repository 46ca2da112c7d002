import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ERROR_TYPES } from '../../src/errors.js';
import { withToken } from '../helpers/api.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const examples = path.join(repoRoot, 'services.d');

interface StatusInfo {
  jobID: string;
  status: string;
}
interface Problem {
  type: string;
  detail: string;
}

describe('users, tokens and per-user limits through the whole system', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let asAnn: typeof fetch;
  let asBen: typeof fetch;

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const json = async <T>(response: Response) => (await response.json()) as T;
  const admin = (method: string, route: string, body?: unknown) =>
    cluster.adminApi(url(route), { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const newUser = async (name: string) => {
    expect((await admin('POST', '/admin/users', { name })).status).to.equal(201);
    return withToken((await json<{ token: string }>(await admin('POST', `/admin/users/${name}/tokens`, { label: 'test' }))).token);
  };
  const submit = (caller: typeof fetch, process: string, inputs: Record<string, unknown>) =>
    caller(url(`/processes/${process}/execution`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify({ inputs }),
    });
  const statusOf = async (caller: typeof fetch, jobId: string) => (await json<StatusInfo>(await caller(url(`/jobs/${jobId}`)))).status;
  const reaches = (caller: typeof fetch, jobId: string, status: string) =>
    eventually(async () => ((await statusOf(caller, jobId)) === status ? true : undefined), 5000, `job ${jobId} ${status}`);
  async function expectProblem(response: Response, status: number, code: keyof typeof ERROR_TYPES, detail: string) {
    expect(response.status).to.equal(status);
    expect(await json<Problem>(response)).to.deep.include({ type: ERROR_TYPES[code], detail });
  }

  before(async function () {
    cluster = await startCluster();
    await cluster.addAgent('worker', examples, { slots: 2 });
    asAnn = await newUser('ann');
    asBen = await newUser('ben');
  });
  after(() => cluster.stop());

  it('keeps a user’s jobs from another user: not listed, not readable, not dismissable', async function () {
    const finished = await json<StatusInfo>(await submit(asBen, 'echo', { echo: 'ben only' }));
    await reaches(asBen, finished.jobID, 'successful');
    const running = await json<StatusInfo>(await submit(asBen, 'slow', { steps: 100, interval: 0.1 }));

    expect((await json<{ jobs: StatusInfo[] }>(await asAnn(url('/jobs')))).jobs).to.deep.equal([]);
    for (const jobId of [finished.jobID, running.jobID]) {
      for (const [method, route] of [['GET', ''], ['GET', '/results'], ['GET', '/results/echo'], ['DELETE', '']]) {
        await expectProblem(await asAnn(url(`/jobs/${jobId}${route}`), { method }), 404, 'no-such-job', `job '${jobId}' does not exist`);
      }
    }
    expect(await (await asBen(url(`/jobs/${finished.jobID}/results/echo`))).text()).to.equal('ben only');
    expect(await statusOf(asBen, running.jobID)).to.be.oneOf(['accepted', 'running']);
    expect((await asBen(url(`/jobs/${running.jobID}`), { method: 'DELETE' })).status).to.equal(200);
  });

  it('refuses the admin API to a user token', async function () {
    await expectProblem(await asAnn(url('/admin/users')), 403, 'forbidden', "the admin API needs an admin token; user 'ann' has role 'user'");
    const create = await asAnn(url('/admin/users'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"mallory","role":"admin"}' });
    await expectProblem(create, 403, 'forbidden', "the admin API needs an admin token; user 'ann' has role 'user'");
    expect(cluster.orchestrator.users.get('mallory')).to.equal(undefined);
  });

  it('stops a revoked token at once', async function () {
    const issued = await json<{ id: string; token: string }>(await admin('POST', '/admin/users/ann/tokens', { label: 'short-lived' }));
    const caller = withToken(issued.token);
    expect((await caller(url('/jobs'))).status).to.equal(200);
    expect((await admin('DELETE', `/admin/tokens/${issued.id}`)).status).to.equal(200);
    const refused = await caller(url('/jobs'));
    expect(refused.headers.get('www-authenticate')).to.equal('Bearer realm="outpost", error="invalid_token"');
    await expectProblem(refused, 401, 'unauthorized', 'token has been revoked');
    expect((await asAnn(url('/jobs'))).status).to.equal(200);
  });

  it('holds a user to their running and waiting limits while another user is served at once', async function () {
    const limits = await admin('PUT', '/admin/users/ann/limits', { maxRunning: 1, maxWaiting: 1 });
    expect(await json(limits)).to.deep.include({ maxRunning: 1, maxWaiting: 1 });
    const slow = { steps: 100, interval: 0.1 };
    const first = await json<StatusInfo>(await submit(asAnn, 'slow', slow));
    await reaches(asAnn, first.jobID, 'running');
    // The agent has a free slot, but Ann may run only one job at a time.
    const second = await submit(asAnn, 'slow', slow);
    expect(second.status).to.equal(201);
    const waiting = await json<StatusInfo>(second);

    const refused = await submit(asAnn, 'slow', slow);
    expect(refused.headers.get('retry-after')).to.equal('5');
    await expectProblem(refused, 429, 'too-many-requests', "user 'ann' already has 1 job waiting (limit 1)");
    expect((await json<{ jobs: StatusInfo[] }>(await asAnn(url('/jobs')))).jobs.map((j) => j.jobID)).to.deep.equal([waiting.jobID, first.jobID]);

    const bens = await submit(asBen, 'slow', slow);
    expect(bens.status).to.equal(201);
    await reaches(asBen, (await json<StatusInfo>(bens)).jobID, 'running');
    expect(await statusOf(asAnn, waiting.jobID)).to.equal('accepted');

    // Once Ann's running job is gone, her waiting one starts and she may queue another.
    expect((await asAnn(url(`/jobs/${first.jobID}`), { method: 'DELETE' })).status).to.equal(200);
    await reaches(asAnn, waiting.jobID, 'running');
    expect((await submit(asAnn, 'slow', slow)).status).to.equal(201);
  });

  describe('outpost token create', function () {
    const tokenCreate = (...args: string[]) =>
      run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'token', 'create', ...args, '--data-dir', cluster.dataDir]);
    const failure = (args: string[]) => tokenCreate(...args).then(
      () => expect.fail('the command should have failed'),
      (error: { code: number; stderr: string }) => [error.code, error.stderr.split('\n')[0]],
    );

    it('prints a token that the running server accepts at once', async function () {
      const { stdout, stderr } = await tokenCreate('--user', 'carol', '--label', 'ci');
      const token = stdout.trim();
      expect(token).to.match(/^opt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(stderr).to.match(/^Token [0-9a-f]{16} created for user 'carol' \(role user\); it is shown only now:\n$/);
      expect((await withToken(token)(url('/jobs'))).status).to.equal(200);
      expect((await withToken(token)(url('/admin/users'))).status).to.equal(403);
      const tokens = await json<{ tokens: { label: string }[] }>(await admin('GET', '/admin/users/carol/tokens'));
      expect(tokens.tokens.map((t) => t.label)).to.deep.equal(['ci']);
    });

    it('says so when the data directory has no database yet, as one mistyped or run from another folder', async function () {
      const elsewhere = path.join(cluster.dataDir, 'not-the-data-dir');
      const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'token', 'create', '--user', 'erin', '--data-dir', elsewhere]);
      expect(stdout).to.match(/^opt_/);
      expect(stderr.split('\n')[0]).to.equal(`outpost: no database in ${elsewhere} yet, so a new one is made; give --data-dir to use the server's`);
    });

    it('makes admin tokens with --admin, and never changes an existing user’s role', async function () {
      const token = (await tokenCreate('--user', 'dana', '--admin')).stdout.trim();
      expect(await json(await withToken(token)(url('/admin/users/dana')))).to.deep.include({ name: 'dana', role: 'admin' });
      expect(await failure(['--user', 'ann', '--admin'])).to.deep.equal([2, "outpost: user 'ann' already exists with role 'user', not 'admin'"]);
      expect(await failure(['--user', 'dana'])).to.deep.equal([2, "outpost: user 'dana' already exists with role 'admin', not 'user'"]);
      expect(await failure(['--admin'])).to.deep.equal([2, 'outpost: --user is required']);
      expect(await failure(['--user', 'anonymous'])).to.deep.equal([2, "outpost: 'anonymous' is the owner of jobs submitted without a token; it cannot be a user"]);
    });
  });
});
