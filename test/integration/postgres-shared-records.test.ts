import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withToken } from '../helpers/api.js';
import { eventually } from '../helpers/cluster.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { postgresOrSkip, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';

/**
 * Two `outpost serve` on one private PostgreSQL: users, tokens, agent accounts and the audit log
 * made through either are those of both. Prosody takes one connection per component, so each
 * orchestrator has a private Prosody of its own; only HTTP matters here.
 */
describe('two orchestrators on one PostgreSQL share users, tokens, agent accounts and the audit log', function () {
  this.timeout(60_000);
  let postgres: TestPostgres | undefined;
  const servers: TestProsody[] = [];
  const dataDirs: string[] = [];
  const orchestrators: OrchestratorProcess[] = [];
  const a = () => orchestrators[0]!;
  const b = () => orchestrators[1]!;
  let databaseUrl: string;
  let asAdmin: typeof fetch;

  before(async function () {
    postgres = postgresOrSkip(this, await startTestPostgres());
    databaseUrl = await postgres.createDatabase();
    servers.push(...(await Promise.all([startTestProsody(), startTestProsody()])));
    dataDirs.push(...(await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'outpost-data-'))))));
    orchestrators.push(...(await Promise.all(servers.map((server, n) => startOrchestratorProcess(server.prosody, dataDirs[n]!, ['--database', databaseUrl])))));
    asAdmin = withToken(await a().cli('token', 'create', '--user', 'root', '--admin', '--database', databaseUrl));
  });
  after(async () => {
    await Promise.all(orchestrators.map((orchestrator) => orchestrator.crash()));
    await Promise.all(servers.map((server) => server.stop()));
    await postgres?.stop();
    await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const statusOn = async (orchestrator: OrchestratorProcess, call: typeof fetch) => (await call(`${orchestrator.url}/jobs`)).status;
  const post = (url: string, body: unknown) => asAdmin(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('takes a token made on A on B, and refuses it on B within a second of its revocation on A', async () => {
    expect(await statusOn(b(), asAdmin)).to.equal(200);
    expect((await post(`${a().url}/admin/users`, { name: 'bob' })).status).to.equal(201);
    const issued = (await (await post(`${a().url}/admin/users/bob/tokens`, { label: 'shared' })).json()) as { id: string; token: string };
    const asBob = withToken(issued.token);
    await eventually(async () => ((await statusOn(b(), asBob)) === 200 ? true : undefined), 1000, "bob's token working on B");

    const revokedAt = Date.now();
    expect((await asAdmin(`${a().url}/admin/tokens/${issued.id}`, { method: 'DELETE' })).status).to.equal(200);
    await eventually(async () => ((await statusOn(b(), asBob)) === 401 ? true : undefined), 1000, 'the revoked token refused on B');
    console.log(`      revoked on A, refused on B after ${Date.now() - revokedAt} ms`);
    const refused = (await (await asBob(`${b().url}/jobs`)).json()) as { detail: string };
    expect(refused.detail).to.equal('token has been revoked');

    const onB = (await (await asAdmin(`${b().url}/admin/audit?action=token.revoke`)).json()) as { entries: { actor: string; target: string }[] };
    expect(onB.entries.map(({ actor, target }) => [actor, target])).to.deep.equal([['root', issued.id]]);
  });

  it('ends an event stream on B at once when its token is revoked on A', async () => {
    const issued = (await (await post(`${a().url}/admin/users/root/tokens`, { label: 'console' })).json()) as { id: string; token: string };
    const response = await eventually(async () => {
      const opened = await withToken(issued.token)(`${b().url}/admin/events`);
      return opened.status === 200 ? opened : undefined;
    }, 1000, 'the stream opened on B');
    const reader = new EventStreamReader(response);
    expect((await asAdmin(`${a().url}/admin/tokens/${issued.id}`, { method: 'DELETE' })).status).to.equal(200);
    // Long before the 15 s keep-alive that would otherwise find the revocation.
    let event = await reader.next(1000);
    while (event && event.event !== 'revoked') event = await reader.next(1000);
    expect(event?.event).to.equal('revoked');
  });

  it('lists on both an agent account that `outpost agent add --database` records', async () => {
    await a().cli('agent', 'add', 'w1@example.org', '--pool', 'fleet', '--database', databaseUrl);
    for (const orchestrator of orchestrators) {
      const listed = (await (await asAdmin(`${orchestrator.url}/admin/agent-accounts`)).json()) as { accounts: { jid: string; pool: string }[] };
      expect(listed.accounts.map(({ jid, pool }) => [jid, pool])).to.deep.equal([['w1@example.org', 'fleet']]);
    }
    expect(await b().cli('agent', 'list', '--database', databaseUrl)).to.match(/^w1@example\.org\tpool fleet\tcreated \S+$/);
  });
});
