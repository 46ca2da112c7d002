import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { ownerLimits } from '../../src/jobs/owner-limits.js';
import type { UserStoreApi } from '../../src/store/user-store.js';
import { eventually } from '../helpers/cluster.js';
import { forEachRecords } from './records-under-test.js';

const T1 = new Date('2024-05-01T12:00:00.000Z');
const T2 = new Date('2024-05-01T13:00:00.000Z');
const T3 = new Date('2024-05-01T14:00:00.000Z');

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (err: Error) => err.message);

forEachRecords('User store contract: users, limits and tokens', (subject, backend) => {
  let users: UserStoreApi;
  beforeEach(() => {
    users = subject().records.users;
  });

  it('creates users once, gets and lists them by name', async () => {
    expect(await users.create('bob', 'user', T1)).to.deep.equal({
      name: 'bob',
      role: 'user',
      created: T1.toISOString(),
      limits: { maxRunning: null, maxWaiting: null },
    });
    await users.create('ann@example.org', 'admin', T2);
    expect(await users.create('bob', 'admin', T3)).to.equal(undefined);
    expect(users.get('bob')?.role).to.equal('user');
    expect(users.get('nobody')).to.equal(undefined);
    expect(users.list().map((u) => [u.name, u.role])).to.deep.equal([
      ['ann@example.org', 'admin'],
      ['bob', 'user'],
    ]);
  });

  it('replaces limit overrides, null meaning the default', async () => {
    await users.create('bob', 'user');
    expect((await users.setLimits('bob', { maxRunning: 2, maxWaiting: 0 }))?.limits).to.deep.equal({ maxRunning: 2, maxWaiting: 0 });
    expect((await users.setLimits('bob', { maxRunning: null, maxWaiting: 7 }))?.limits).to.deep.equal({ maxRunning: null, maxWaiting: 7 });
    expect(await users.setLimits('nobody', { maxRunning: 1, maxWaiting: 1 })).to.equal(undefined);
  });

  it('applies the overrides of a user over the defaults, and the defaults to anyone else', async () => {
    await users.create('bob', 'user');
    await users.setLimits('bob', { maxRunning: 1, maxWaiting: null });
    const limits = ownerLimits(users, { maxRunning: 16, maxWaiting: 1000 });
    expect(limits('bob')).to.deep.equal({ maxRunning: 1, maxWaiting: 1000 });
    expect(limits('anonymous')).to.deep.equal({ maxRunning: 16, maxWaiting: 1000 });
  });

  it('issues tokens that name their id, and authenticates them with the user and role', async () => {
    await users.create('bob', 'admin');
    const issued = await users.issueToken('bob', 'laptop', T1);
    expect(issued.token).to.match(new RegExp(`^opt_${issued.id}_[A-Za-z0-9_-]{43}$`));
    expect(issued).to.deep.include({ user: 'bob', label: 'laptop', created: T1.toISOString(), revoked: null });
    expect(users.authenticate(issued.token)).to.deep.equal({ ok: true, user: { name: 'bob', role: 'admin', tokenId: issued.id } });
    expect(users.authenticate(`${issued.token}x`)).to.deep.equal({ ok: false, reason: 'unknown' });
    expect(users.authenticate('')).to.deep.equal({ ok: false, reason: 'unknown' });
  });

  it('keeps only the SHA-256 of a token, which still works after the database is opened again', async () => {
    await users.create('bob', 'user');
    const { token, id } = await users.issueToken('bob', null);
    const row = await subject().tokenRow(id);
    expect(row['hash']).to.deep.equal(createHash('sha256').update(token).digest());
    expect(JSON.stringify(Object.values(row).map(String))).to.not.include(token.slice(-43));
    const reopened = await subject().reopen();
    expect(reopened.users.authenticate(token)).to.deep.equal({ ok: true, user: { name: 'bob', role: 'user', tokenId: id } });
  });

  it('lists a user’s tokens without the tokens, and revokes them once', async () => {
    await users.create('bob', 'user');
    await users.create('eve', 'user');
    const first = await users.issueToken('bob', 'one', T1);
    const second = await users.issueToken('bob', null, T2);
    await users.issueToken('eve', 'other', T2);
    expect(users.tokens('bob')).to.deep.equal([
      { id: first.id, user: 'bob', label: 'one', created: T1.toISOString(), revoked: null },
      { id: second.id, user: 'bob', label: null, created: T2.toISOString(), revoked: null },
    ]);

    const announced: string[] = [];
    users.on('token-revoked', (id) => announced.push(id));
    expect((await users.revokeToken(first.id, T2))?.revoked).to.equal(T2.toISOString());
    expect((await users.revokeToken(first.id, T3))?.revoked).to.equal(T2.toISOString());
    expect(await users.revokeToken('nope')).to.equal(undefined);
    expect(users.authenticate(first.token)).to.deep.equal({ ok: false, reason: 'revoked' });
    expect(users.authenticate(second.token).ok).to.equal(true);
    expect(announced).to.deep.equal([first.id, first.id]);
    expect([users.isTokenLive(first.id), users.isTokenLive(second.id), users.isTokenLive('nope')]).to.deep.equal([false, true, false]);
  });

  it('refuses limits out of range and tokens of unknown users, with the engine’s words', async () => {
    await users.create('bob', 'user');
    expect(await failure(users.setLimits('bob', { maxRunning: 0, maxWaiting: null }))).to.match(backend.checkError);
    expect(await failure(users.setLimits('bob', { maxRunning: null, maxWaiting: -1 }))).to.match(backend.checkError);
    expect(await failure(users.issueToken('nobody', null))).to.match(backend.foreignKeyError);
    expect(users.get('bob')?.limits).to.deep.equal({ maxRunning: null, maxWaiting: null });
  });

  it('sees users, limits and tokens another orchestrator writes, and its revocations within a second', async () => {
    const announced: string[] = [];
    users.on('token-revoked', (id) => announced.push(id));
    const other = await subject().another();
    await other.users.create('bob', 'user');
    const issued = await other.users.issueToken('bob', 'elsewhere');
    await eventually(() => (users.authenticate(issued.token).ok ? true : undefined), 1000, 'token issued elsewhere authenticates');
    await other.users.setLimits('bob', { maxRunning: 3, maxWaiting: null });
    await eventually(() => (users.get('bob')?.limits.maxRunning === 3 ? true : undefined), 1000, 'limits set elsewhere apply');

    await other.users.revokeToken(issued.id);
    await eventually(() => (users.authenticate(issued.token).ok ? undefined : true), 1000, 'token revoked elsewhere refused');
    expect(users.authenticate(issued.token)).to.deep.equal({ ok: false, reason: 'revoked' });
    expect(users.isTokenLive(issued.id)).to.equal(false);
    // On a shared database the revocation is also announced, which ends event streams at once; SQLite's are found by the next keep-alive.
    expect(announced).to.deep.equal(backend.shared ? [issued.id] : []);
  });

  it('hears changes again after its listening connection was cut, reloading what it missed', async function () {
    if (!backend.shared) this.skip();
    const other = await subject().another();
    await other.users.create('bob', 'user');
    const issued = await other.users.issueToken('bob', null);
    await eventually(() => (users.authenticate(issued.token).ok ? true : undefined), 1000, 'token issued elsewhere authenticates');
    await subject().cutListeners();
    // Made while nobody listens: only the reload after reconnecting brings it.
    await other.users.revokeToken(issued.id);
    await eventually(() => (users.authenticate(issued.token).ok ? undefined : true), 3000, 'revocation heard after reconnecting');
    expect(subject().feedErrors[0]).to.equal('the connection listening to changes of other orchestrators was lost; reconnecting');
  });
});
