import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { ERROR_TYPES } from '../../src/errors.js';
import { TEST_ADMIN, TEST_USER, withToken } from '../helpers/api.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const WORKER = 'worker@example.org/a';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  source: string;
  detail: Record<string, unknown> | null;
  count: number;
}
interface AuditPage {
  entries: Entry[];
  links: { rel: string; href: string }[];
}

describe('HTTP admin audit log: who did what, when and from where', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo')]);
  });
  afterEach(() => h.close());

  const send = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.adminApi(`${h.url}${route}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const audit = async (query = '') => {
    const response = await send('GET', `/admin/audit${query}`);
    expect(response.status).to.equal(200);
    return (await response.json()) as AuditPage;
  };
  /** Entries oldest first, as [actor, action, target, detail]. */
  const summary = (page: AuditPage) => page.entries.map((e) => [e.actor, e.action, e.target, e.detail]).reverse();

  it('records every admin action that was done, with the admin, the target and the remote address', async () => {
    await send('POST', '/admin/users', { name: 'bob' });
    const issued = (await (await send('POST', '/admin/users/bob/tokens', { label: 'laptop' })).json()) as { id: string };
    await send('DELETE', `/admin/tokens/${issued.id}`);
    await send('PUT', '/admin/users/bob/limits', { maxRunning: 2, maxWaiting: null });
    await send('POST', `/admin/agents/${encodeURIComponent(WORKER)}/drain`);
    await send('POST', `/admin/agents/${encodeURIComponent(WORKER)}/undrain`);
    await send('PUT', '/admin/processes/echo/pool', { pool: 'gpu' });
    h.jobs.create(jobRecord('run-1', { status: 'running', agent: WORKER, started: new Date().toISOString() }));
    expect((await send('POST', '/admin/jobs/run-1/kill')).status).to.equal(200);

    const page = await audit();
    expect(summary(page)).to.deep.equal([
      [TEST_ADMIN, 'user.create', 'bob', { role: 'user' }],
      [TEST_ADMIN, 'token.create', issued.id, { user: 'bob', label: 'laptop' }],
      [TEST_ADMIN, 'token.revoke', issued.id, { user: 'bob' }],
      [TEST_ADMIN, 'limits.set', 'bob', { maxRunning: 2, maxWaiting: null }],
      [TEST_ADMIN, 'agent.drain', WORKER, null],
      [TEST_ADMIN, 'agent.undrain', WORKER, null],
      [TEST_ADMIN, 'process.pool', 'echo', { pool: 'gpu' }],
      [TEST_ADMIN, 'job.kill', 'run-1', { process: 'echo', owner: TEST_USER }],
    ]);
    expect(page.entries.every((e) => e.source === '127.0.0.1' && e.count === 1 && ISO.test(e.at))).to.equal(true);
  });

  it('records nothing for an action that was refused', async () => {
    expect((await send('POST', '/admin/users', { name: 'two words' })).status).to.equal(400);
    expect((await send('PUT', '/admin/users/bob/limits', { maxRunning: 0, maxWaiting: null })).status).to.equal(404);
    expect((await send('POST', '/admin/agents/nobody@example.org/drain')).status).to.equal(404);
    expect((await audit()).entries).to.deep.equal([]);
  });

  it('takes the address of the connection, not a X-Forwarded-For header anyone can write', async () => {
    await send('POST', '/admin/users', { name: 'carol' }, { 'X-Forwarded-For': '203.0.113.9' });
    expect((await audit()).entries.map((e) => e.source)).to.deep.equal(['127.0.0.1']);
  });

  it('counts refused authentications in one entry per source and minute, however many arrive', async () => {
    const bad = withToken('opt_nope_0000');
    const statuses = await Promise.all(Array.from({ length: 40 }, () => bad(`${h.url}/jobs`).then((r) => r.status)));
    expect(new Set(statuses)).to.deep.equal(new Set([401]));
    await fetch(`${h.url}/jobs`, { headers: { Authorization: 'Basic abc' } });
    const upload = await fetch(`${h.url}/uploads/job-1/result`, { method: 'PUT', headers: { Authorization: 'Bearer wrong' }, body: 'x' });
    expect(upload.status).to.equal(403);

    const refused = (await audit('?action=auth.refused')).entries;
    // One row, or two when the minute turned during the test.
    expect(refused.length).to.be.within(1, 2);
    expect(refused.reduce((sum, e) => sum + e.count, 0)).to.equal(42);
    expect(refused.every((e) => e.actor === 'unauthenticated' && e.target === null && e.source === '127.0.0.1')).to.equal(true);
    expect(refused[0]!.detail).to.deep.equal({ reason: "the upload token is not valid for job 'job-1'" });
  });

  it('answers a refused token as always when the audit log cannot be written, and logs why', async () => {
    const other = new BetterSqlite3(h.databaseFile);
    other.exec('DROP TABLE audit');
    other.close();
    const response = await withToken('opt_nope_0000')(`${h.url}/jobs`);
    expect(response.status).to.equal(401);
    expect((await problemOf(response)).detail).to.equal('token is not valid');
    expect(h.logs.find((line) => line['msg'] === 'a refused authentication could not be recorded in the audit log')).to.include({ source: '127.0.0.1', err: 'no such table: audit' });
  });

  it('filters by action, actor and time, and pages like the other admin lists', async () => {
    for (const name of ['u1', 'u2', 'u3']) await send('POST', '/admin/users', { name });
    await send('POST', `/admin/users/u1/tokens`);
    const all = (await audit()).entries;
    const [newest] = all;

    expect(summary(await audit('?action=token.create,token.revoke')).map((e) => e[1])).to.deep.equal(['token.create']);
    expect((await audit(`?actor=${TEST_ADMIN}`)).entries).to.have.length(4);
    expect((await audit('?actor=somebody')).entries).to.deep.equal([]);
    expect((await audit(`?since=${encodeURIComponent(newest!.at)}`)).entries.map((e) => e.id)).to.include(newest!.id);
    expect((await audit('?until=2000-01-01T00:00:00Z')).entries).to.deep.equal([]);

    const first = await audit('?limit=3');
    expect(first.entries.map((e) => e.id)).to.deep.equal(all.slice(0, 3).map((e) => e.id));
    const next = first.links.find((l) => l.rel === 'next')!;
    expect(next.href).to.equal(`${h.url}/admin/audit?limit=3&offset=3`);
    const second = (await (await h.adminApi(next.href)).json()) as AuditPage;
    expect(second.entries.map((e) => e.id)).to.deep.equal([all[3]!.id]);
    expect(second.links.map((l) => l.rel)).to.deep.equal(['self', 'prev']);
  });

  for (const [query, detail] of [
    ['?action=nope', "query parameter 'action' must be one of job.kill, agent.drain, agent.undrain, agent.add, agent.remove, process.pool, user.create, token.create, token.revoke, limits.set, auth.refused; got 'nope'"],
    ['?since=yesterday', "query parameter 'since' must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z; got 'yesterday'"],
    ['?since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z', "query parameter 'since' (2024-05-02T00:00:00.000Z) must not be after until (2024-05-01T00:00:00.000Z)"],
    ['?actor=', "query parameter 'actor' must not be empty"],
    ['?limit=0', "query parameter 'limit' must be an integer from 1 to 1000, got '0'"],
  ] as const) {
    it(`refuses ${query} with one line`, async () => {
      const response = await send('GET', `/admin/audit${query}`);
      expect(response.status).to.equal(400);
      const problem = await problemOf(response);
      expect([problem.type, problem.detail]).to.deep.equal([ERROR_TYPES['invalid-parameter'], detail]);
    });
  }

  it('is for admins only', async () => {
    expect((await h.api(`${h.url}/admin/audit`)).status).to.equal(403);
    expect((await fetch(`${h.url}/admin/audit`)).status).to.equal(401);
  });

  it('records what the outpost command does on the server as cli, from the local user', async () => {
    await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'token', 'create', '--user', 'dave', '--label', 'ci', '--data-dir', path.dirname(h.databaseFile)]);
    const [entry] = (await audit()).entries;
    expect(entry).to.deep.include({ actor: 'cli', action: 'token.create', detail: { user: 'dave', label: 'ci' } });
    expect(entry!.source).to.match(/^local:\S+$/);
  });
});
