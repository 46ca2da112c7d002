import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { TEST_ADMIN, TEST_USER, withToken } from '../helpers/api.js';
import { problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('HTTP admin API: users, tokens and limits', () => {
  let h: Harness;
  let limitsChanged: number;

  beforeEach(async () => {
    limitsChanged = 0;
    h = await startHarness([spec('echo')], { defaultLimits: { maxRunning: 4, maxWaiting: 10 }, limitsChanged: () => void (limitsChanged += 1) });
  });
  afterEach(() => h.close());

  const send = (method: string, path: string, body?: unknown) =>
    h.adminApi(`${h.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  async function expectProblem(response: Response, status: number, code: keyof typeof ERROR_TYPES, detail: string) {
    expect(response.status).to.equal(status);
    const problem = await problemOf(response);
    expect([problem.type, problem.detail]).to.deep.equal([ERROR_TYPES[code], detail]);
  }

  it('creates users, shows and lists them', async () => {
    const created = await send('POST', '/admin/users', { name: 'ann@example.org', role: 'admin' });
    expect(created.status).to.equal(201);
    expect(created.headers.get('location')).to.equal(`${h.url}/admin/users/ann%40example.org`);
    const user = (await created.json()) as Record<string, unknown>;
    expect(user).to.deep.include({ name: 'ann@example.org', role: 'admin', limits: { maxRunning: null, maxWaiting: null } });
    expect(user['created']).to.match(ISO);
    expect(await (await send('GET', '/admin/users/ann@example.org')).json()).to.deep.equal(user);

    expect(((await (await send('POST', '/admin/users', { name: 'bob' })).json()) as { role: string }).role).to.equal('user');
    const list = (await (await send('GET', '/admin/users')).json()) as { users: { name: string }[]; links: { rel: string; href: string }[] };
    expect(list.users.map((u) => u.name)).to.deep.equal([TEST_ADMIN, TEST_USER, 'ann@example.org', 'bob']);
    expect(list.links).to.deep.equal([{ href: `${h.url}/admin/users`, rel: 'self', type: 'application/json', title: 'users' }]);
  });

  for (const [body, detail] of [
    [{ name: 'two words' }, "a user name is 1 to 64 letters, digits, '_', '.', '@' or '-'; got 'two words'"],
    [{ name: 'anonymous' }, "'anonymous' is the owner of jobs submitted without a token; it cannot be a user"],
    [{ name: 'bob', role: 'root' }, "'role' must be one of 'user', 'admin'"],
    [{ name: 7 }, "'name' must be a string"],
    [{ role: 'user' }, "request body must have 'name'"],
    [{ name: 'bob', email: 'b@x' }, "request body has an unknown member 'email'; it may have name, role"],
    [[], 'request body must be a JSON object, got an array'],
    ['{"name": ', 'request body is not valid JSON: Unexpected end of JSON input'],
  ] as const) {
    it(`refuses to create a user from ${JSON.stringify(body)}`, async () => {
      await expectProblem(await send('POST', '/admin/users', body), 400, 'bad-request', detail);
      expect(h.users.list()).to.have.length(2);
    });
  }

  it('refuses a name that is taken, and answers unknown users and tokens with 404', async () => {
    await expectProblem(await send('POST', '/admin/users', { name: TEST_USER }), 409, 'conflict', `user '${TEST_USER}' already exists`);
    for (const path of ['/admin/users/nobody', '/admin/users/nobody/tokens', '/admin/users/nobody/limits']) {
      await expectProblem(await send('GET', path), 404, 'not-found', "user 'nobody' does not exist");
    }
    await expectProblem(await send('POST', '/admin/users/nobody/tokens', {}), 404, 'not-found', "user 'nobody' does not exist");
    await expectProblem(await send('PUT', '/admin/users/nobody/limits', { maxRunning: 1, maxWaiting: 1 }), 404, 'not-found', "user 'nobody' does not exist");
    await expectProblem(await send('DELETE', '/admin/tokens/nope'), 404, 'not-found', "token 'nope' does not exist");
  });

  it('answers a new token once, lists tokens without them, and revokes a token at once', async () => {
    await send('POST', '/admin/users', { name: 'bob' });
    const created = await send('POST', '/admin/users/bob/tokens', { label: 'laptop' });
    expect(created.status).to.equal(201);
    expect(created.headers.get('cache-control')).to.equal('no-store');
    const issued = (await created.json()) as { id: string; token: string; label: string; user: string; revoked: null };
    expect(issued).to.deep.include({ user: 'bob', label: 'laptop', revoked: null });
    expect(issued.token).to.match(new RegExp(`^opt_${issued.id}_`));
    const unlabelled = (await (await send('POST', '/admin/users/bob/tokens')).json()) as { id: string; label: null };
    expect(unlabelled.label).to.equal(null);

    const asBob = withToken(issued.token);
    expect((await asBob(`${h.url}/jobs`)).status).to.equal(200);
    const listed = (await (await send('GET', '/admin/users/bob/tokens')).json()) as { tokens: Record<string, unknown>[] };
    expect(listed.tokens.map((t) => Object.keys(t).sort())).to.deep.equal([
      ['created', 'id', 'label', 'revoked', 'user'],
      ['created', 'id', 'label', 'revoked', 'user'],
    ]);
    expect(listed.tokens.map((t) => [t['id'], t['label']])).to.deep.equal([
      [issued.id, 'laptop'],
      [unlabelled.id, null],
    ]);

    const revoked = (await (await send('DELETE', `/admin/tokens/${issued.id}`)).json()) as { revoked: string };
    expect(revoked.revoked).to.match(ISO);
    await expectProblem(await asBob(`${h.url}/jobs`), 401, 'unauthorized', 'token has been revoked');
    expect(((await (await send('DELETE', `/admin/tokens/${issued.id}`)).json()) as { revoked: string }).revoked).to.equal(revoked.revoked);
  });

  for (const [body, detail] of [
    [{ label: 5 }, "'label' must be a string"],
    [{ label: 'x'.repeat(201) }, "'label' must be at most 200 characters long"],
    [{ name: 'x' }, "request body has an unknown member 'name'; it may have label"],
  ] as const) {
    it(`refuses a token from ${JSON.stringify(body).slice(0, 40)}`, async () => {
      await expectProblem(await send('POST', `/admin/users/${TEST_USER}/tokens`, body), 400, 'bad-request', detail);
      expect(h.users.tokens(TEST_USER)).to.have.length(1);
    });
  }

  it('shows and replaces limit overrides, with the limits in effect', async () => {
    const initial = { maxRunning: null, maxWaiting: null, effective: { maxRunning: 4, maxWaiting: 10 } };
    expect(await (await send('GET', `/admin/users/${TEST_USER}/limits`)).json()).to.deep.equal(initial);
    const updated = await send('PUT', `/admin/users/${TEST_USER}/limits`, { maxRunning: 1, maxWaiting: null });
    expect(updated.status).to.equal(200);
    const expected = { maxRunning: 1, maxWaiting: null, effective: { maxRunning: 1, maxWaiting: 10 } };
    expect(await updated.json()).to.deep.equal(expected);
    expect(await (await send('GET', `/admin/users/${TEST_USER}/limits`)).json()).to.deep.equal(expected);
    expect(limitsChanged).to.equal(1);
  });

  for (const [body, detail] of [
    [{ maxRunning: 0, maxWaiting: null }, "'maxRunning' must be at least 1"],
    [{ maxRunning: null, maxWaiting: -1 }, "'maxWaiting' must be at least 0"],
    [{ maxRunning: 1.5, maxWaiting: null }, "'maxRunning' must be an integer or null"],
    [{ maxRunning: '2', maxWaiting: null }, "'maxRunning' must be an integer or null"],
    [{ maxRunning: 2 }, "request body must have 'maxWaiting'"],
    [{ maxRunning: 2, maxWaiting: 2, maxQueued: 1 }, "request body has an unknown member 'maxQueued'; it may have maxRunning, maxWaiting"],
  ] as const) {
    it(`refuses limits ${JSON.stringify(body)}`, async () => {
      await expectProblem(await send('PUT', `/admin/users/${TEST_USER}/limits`, body), 400, 'bad-request', detail);
      expect(h.users.get(TEST_USER)?.limits).to.deep.equal({ maxRunning: null, maxWaiting: null });
      expect(limitsChanged).to.equal(0);
    });
  }
});
