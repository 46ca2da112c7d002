import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { routeClass, type AccessPolicy, type RouteClass } from '../../src/http/auth.js';
import { TEST_USER } from '../helpers/api.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

/** A request of each route class, with the status it gets when it is allowed. */
const ROUTES: Record<RouteClass, { method: string; path: string; status: number }[]> = {
  open: [
    { method: 'GET', path: '/healthz', status: 200 },
    { method: 'GET', path: '/readyz', status: 200 },
    { method: 'GET', path: '/agent/outpost-agent.tgz', status: 200 },
  ],
  read: [
    { method: 'GET', path: '/', status: 200 },
    { method: 'GET', path: '/conformance', status: 200 },
    { method: 'GET', path: '/api', status: 200 },
    { method: 'GET', path: '/api.html', status: 200 },
    { method: 'GET', path: '/api.html/assets/init.js', status: 200 },
    { method: 'GET', path: '/processes', status: 200 },
    { method: 'GET', path: '/processes/echo', status: 200 },
  ],
  execute: [
    { method: 'POST', path: '/processes/echo/execution', status: 201 },
    { method: 'GET', path: '/jobs', status: 200 },
  ],
  admin: [
    { method: 'GET', path: '/admin/agents', status: 200 },
    { method: 'GET', path: '/admin/users', status: 200 },
    { method: 'GET', path: '/metrics', status: 200 },
  ],
};

const CALLERS = ['anonymous', 'user', 'admin', 'revoked', 'unknown', 'not bearer'] as const;
type Caller = (typeof CALLERS)[number];

const NEEDS_TOKEN: Record<Exclude<RouteClass, 'open'>, string> = {
  read: "this server answers only requests with a token; send the header 'Authorization: Bearer <token>'",
  execute: "executing processes and the jobs API need a token; send the header 'Authorization: Bearer <token>'",
  admin: "the admin API needs an admin token; send the header 'Authorization: Bearer <token>'",
};
const REALM = 'Bearer realm="outpost"';
const INVALID = 'Bearer realm="outpost", error="invalid_token"';

/** What a caller gets on a route class: the status, and for a refusal its detail and WWW-Authenticate. */
function expected(policy: AccessPolicy, routes: RouteClass, caller: Caller): { ok: true } | { status: number; detail: string; challenge: string | null } {
  if (routes === 'open') return { ok: true };
  switch (caller) {
    case 'revoked':
      return { status: 401, detail: 'token has been revoked', challenge: INVALID };
    case 'unknown':
      return { status: 401, detail: 'token is not valid', challenge: INVALID };
    case 'not bearer':
      return { status: 401, detail: "the Authorization header must be 'Bearer <token>'", challenge: INVALID };
    case 'admin':
      return { ok: true };
    case 'user':
      if (routes !== 'admin') return { ok: true };
      return { status: 403, detail: `the admin API needs an admin token; user '${TEST_USER}' has role 'user'`, challenge: null };
    case 'anonymous': {
      const allowed = routes === 'read' ? policy.anonymousRead : routes === 'execute' && policy.anonymousExecute;
      return allowed ? { ok: true } : { status: 401, detail: NEEDS_TOKEN[routes], challenge: REALM };
    }
  }
}

describe('HTTP authentication and access rules', () => {
  let h: Harness;
  afterEach(() => h.close());

  const POLICIES: AccessPolicy[] = [
    { anonymousRead: true, anonymousExecute: false },
    { anonymousRead: false, anonymousExecute: false },
    { anonymousRead: true, anonymousExecute: true },
  ];
  for (const policy of POLICIES) {
    describe(`with anonymousRead ${policy.anonymousRead}, anonymousExecute ${policy.anonymousExecute}`, () => {
      let headers: Record<Caller, Record<string, string>>;
      beforeEach(async () => {
        h = await startHarness([spec('echo')], { access: policy });
        const revoked = await h.users.issueToken(TEST_USER, 'old');
        await h.users.revokeToken(revoked.id);
        headers = {
          anonymous: {},
          user: { Authorization: `Bearer ${h.userToken}` },
          admin: { Authorization: `bearer  ${h.adminToken}` },
          revoked: { Authorization: `Bearer ${revoked.token}` },
          unknown: { Authorization: `Bearer opt_0000000000000000_${'A'.repeat(43)}` },
          'not bearer': { Authorization: `Basic ${Buffer.from(`${TEST_USER}:secret`).toString('base64')}` },
        };
      });

      for (const routes of Object.keys(ROUTES) as RouteClass[]) {
        for (const caller of CALLERS) {
          const outcome = expected(policy, routes, caller);
          it(`${'ok' in outcome ? 'serves' : `refuses (${outcome.status})`} ${routes} routes for ${caller} callers`, async () => {
            for (const route of ROUTES[routes]) {
              const response = await fetch(`${h.url}${route.path}`, {
                method: route.method,
                headers: { ...headers[caller], ...(route.method === 'POST' ? { Prefer: 'respond-async' } : {}) },
              });
              const what = `${route.method} ${route.path}`;
              if ('ok' in outcome) {
                expect(response.status, what).to.equal(route.status);
                continue;
              }
              expect(response.status, what).to.equal(outcome.status);
              expect(response.headers.get('www-authenticate'), what).to.equal(outcome.challenge);
              const problem = await problemOf(response);
              expect([problem.type, problem.detail], what).to.deep.equal([ERROR_TYPES[outcome.status === 401 ? 'unauthorized' : 'forbidden'], outcome.detail]);
            }
          });
        }
      }
    });
  }

  it('records jobs of callers without a token as owned by anonymous, and of users as theirs', async () => {
    h = await startHarness([spec('echo')], { access: { anonymousRead: true, anonymousExecute: true } });
    const submit = (headers: Record<string, string>) =>
      fetch(`${h.url}/processes/echo/execution`, { method: 'POST', headers: { Prefer: 'respond-async', ...headers } });
    expect((await submit({})).status).to.equal(201);
    expect((await submit({ Authorization: `Bearer ${h.userToken}` })).status).to.equal(201);
    expect(h.jobService.submitted.map((s) => s.owner)).to.deep.equal(['anonymous', TEST_USER]);
  });

  it('leaves uploads to their own per-job token', async () => {
    h = await startHarness([spec('echo', { outputs: { data: { type: 'file' } } })], { access: { anonymousRead: false, anonymousExecute: false } });
    h.jobs.create(jobRecord('j1', { status: 'running', agent: 'worker@example.org/a' }));
    const put = (headers: Record<string, string>) => fetch(`${h.url}/uploads/j1/data`, { method: 'PUT', headers, body: 'x' });
    const anonymous = await put({});
    expect([anonymous.status, (await problemOf(anonymous)).detail]).to.deep.equal([
      401,
      "an upload needs the header 'Authorization: Bearer <upload token>' given to the job's agent",
    ]);
    const asUser = await put({ Authorization: `Bearer ${h.userToken}` });
    expect([asUser.status, (await problemOf(asUser)).detail]).to.deep.equal([403, "the upload token is not valid for job 'j1'"]);
    expect((await put({ Authorization: `Bearer ${h.issueUploadToken('j1')}` })).status).to.equal(201);
  });

  it('serves /metrics without a token with metricsOpen, even when reading needs one', async () => {
    h = await startHarness([spec('echo')], { access: { anonymousRead: false, anonymousExecute: false, metricsOpen: true } });
    const metrics = await fetch(`${h.url}/metrics`);
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.include('# TYPE ');
    const processes = await fetch(`${h.url}/processes`);
    expect([processes.status, (await problemOf(processes)).detail]).to.deep.equal([401, NEEDS_TOKEN.read]);
  });

  it('classifies paths the way the router matches them: any case, with a trailing slash', async () => {
    h = await startHarness([spec('echo')], { access: { anonymousRead: true, anonymousExecute: false } });
    for (const path of ['/JOBS', '/jobs/', '/Processes/echo/Execution']) {
      expect((await fetch(`${h.url}${path}`)).status, path).to.equal(401);
    }
    const asUser = await fetch(`${h.url}/Admin/Users/`, { headers: { Authorization: `Bearer ${h.userToken}` } });
    expect(asUser.status).to.equal(403);
  });
});

describe('routeClass', () => {
  const cases: [string, RouteClass][] = [
    ['/healthz', 'open'],
    ['/readyz', 'open'],
    ['/metrics', 'admin'],
    ['/Metrics/', 'admin'],
    ['/uploads/j1/data', 'open'],
    ['/admin/ui', 'open'],
    ['/admin/ui/admin.js', 'open'],
    ['/agent/outpost-agent.tgz', 'open'],
    ['/Agent/Outpost-Agent.tgz/', 'open'],
    ['/agent', 'read'],
    ['/', 'read'],
    ['/conformance', 'read'],
    ['/api', 'read'],
    ['/api.html/assets/swagger-ui.css', 'read'],
    ['/processes', 'read'],
    ['/processes/ns:tool', 'read'],
    ['/nowhere', 'read'],
    ['/jobsx', 'read'],
    ['/adminx', 'read'],
    ['/admin/uix', 'admin'],
    ['/processes/echo/execution', 'execute'],
    ['/jobs', 'execute'],
    ['/jobs/j1/results/out', 'execute'],
    ['/jobs/j1/events', 'execute'],
    ['/admin', 'admin'],
    ['/admin/users/bob/tokens', 'admin'],
    ['/ADMIN/agents/', 'admin'],
  ];
  for (const [path, routes] of cases) {
    it(`puts ${path} in ${routes}`, () => {
      expect(routeClass(path)).to.equal(routes);
    });
  }
});
