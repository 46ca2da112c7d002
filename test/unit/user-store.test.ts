import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { ownerLimits } from '../../src/jobs/owner-limits.js';
import { openDatabase } from '../../src/store/database.js';
import { UserStore, userNameProblem } from '../../src/store/user-store.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

const T1 = new Date('2024-05-01T12:00:00.000Z');
const T2 = new Date('2024-05-01T13:00:00.000Z');
const T3 = new Date('2024-05-01T14:00:00.000Z');

describe('UserStore', () => {
  let temp: TempDatabase;
  let users: UserStore;
  beforeEach(async () => {
    temp = await openTempDatabase();
    users = new UserStore(temp.db);
  });
  afterEach(() => temp.dispose());

  it('creates users once, gets and lists them by name', () => {
    expect(users.create('bob', 'user', T1)).to.deep.equal({
      name: 'bob',
      role: 'user',
      created: T1.toISOString(),
      limits: { maxRunning: null, maxWaiting: null },
    });
    users.create('ann@example.org', 'admin', T2);
    expect(users.create('bob', 'admin', T3)).to.equal(undefined);
    expect(users.get('bob')?.role).to.equal('user');
    expect(users.get('nobody')).to.equal(undefined);
    expect(users.list().map((u) => [u.name, u.role])).to.deep.equal([
      ['ann@example.org', 'admin'],
      ['bob', 'user'],
    ]);
  });

  it('replaces limit overrides, null meaning the default', () => {
    users.create('bob', 'user');
    expect(users.setLimits('bob', { maxRunning: 2, maxWaiting: 0 })?.limits).to.deep.equal({ maxRunning: 2, maxWaiting: 0 });
    expect(users.setLimits('bob', { maxRunning: null, maxWaiting: 7 })?.limits).to.deep.equal({ maxRunning: null, maxWaiting: 7 });
    expect(users.setLimits('nobody', { maxRunning: 1, maxWaiting: 1 })).to.equal(undefined);
  });

  it('applies the overrides of a user over the defaults, and the defaults to anyone else', () => {
    users.create('bob', 'user');
    users.setLimits('bob', { maxRunning: 1, maxWaiting: null });
    const limits = ownerLimits(users, { maxRunning: 16, maxWaiting: 1000 });
    expect(limits('bob')).to.deep.equal({ maxRunning: 1, maxWaiting: 1000 });
    expect(limits('anonymous')).to.deep.equal({ maxRunning: 16, maxWaiting: 1000 });
  });

  it('issues tokens that name their id, and authenticates them with the user and role', () => {
    users.create('bob', 'admin');
    const issued = users.issueToken('bob', 'laptop', T1);
    expect(issued.token).to.match(new RegExp(`^opt_${issued.id}_[A-Za-z0-9_-]{43}$`));
    expect(issued).to.deep.include({ user: 'bob', label: 'laptop', created: T1.toISOString(), revoked: null });
    expect(users.authenticate(issued.token)).to.deep.equal({ ok: true, user: { name: 'bob', role: 'admin', tokenId: issued.id } });
    expect(users.authenticate(`${issued.token}x`)).to.deep.equal({ ok: false, reason: 'unknown' });
    expect(users.authenticate('')).to.deep.equal({ ok: false, reason: 'unknown' });
  });

  it('keeps only the SHA-256 of a token, which still works after the database is opened again', () => {
    users.create('bob', 'user');
    const { token, id } = users.issueToken('bob', null);
    const row = temp.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Record<string, unknown>;
    expect(row['hash']).to.deep.equal(createHash('sha256').update(token).digest());
    expect(JSON.stringify(Object.values(row).map(String))).to.not.include(token.slice(-43));
    temp.db.close();
    const reopened = openDatabase(temp.file);
    try {
      expect(new UserStore(reopened).authenticate(token)).to.deep.equal({ ok: true, user: { name: 'bob', role: 'user', tokenId: id } });
    } finally {
      reopened.close();
    }
  });

  it('lists a user’s tokens without the tokens, and revokes them once', () => {
    users.create('bob', 'user');
    users.create('eve', 'user');
    const first = users.issueToken('bob', 'one', T1);
    const second = users.issueToken('bob', null, T2);
    users.issueToken('eve', 'other', T2);
    expect(users.tokens('bob')).to.deep.equal([
      { id: first.id, user: 'bob', label: 'one', created: T1.toISOString(), revoked: null },
      { id: second.id, user: 'bob', label: null, created: T2.toISOString(), revoked: null },
    ]);

    const announced: string[] = [];
    users.on('token-revoked', (id) => announced.push(id));
    expect(users.revokeToken(first.id, T2)?.revoked).to.equal(T2.toISOString());
    expect(users.revokeToken(first.id, T3)?.revoked).to.equal(T2.toISOString());
    expect(users.revokeToken('nope')).to.equal(undefined);
    expect(users.authenticate(first.token)).to.deep.equal({ ok: false, reason: 'revoked' });
    expect(users.authenticate(second.token).ok).to.equal(true);
    expect(announced).to.deep.equal([first.id, first.id]);
    expect([users.isTokenLive(first.id), users.isTokenLive(second.id), users.isTokenLive('nope')]).to.deep.equal([false, true, false]);
  });

  it('refuses limits out of range and tokens of unknown users', () => {
    users.create('bob', 'user');
    expect(() => users.setLimits('bob', { maxRunning: 0, maxWaiting: null })).to.throw(/CHECK constraint failed/);
    expect(() => users.setLimits('bob', { maxRunning: null, maxWaiting: -1 })).to.throw(/CHECK constraint failed/);
    expect(() => users.issueToken('nobody', null)).to.throw(/FOREIGN KEY constraint failed/);
  });
});

describe('userNameProblem', () => {
  for (const name of ['a', 'Bob_1', 'ann@example.org', 'x.y-z', 'n'.repeat(64)]) {
    it(`accepts '${name.length > 10 ? `${name.length} characters` : name}'`, () => {
      expect(userNameProblem(name)).to.equal(undefined);
    });
  }
  for (const name of ['', 'two words', 'slash/name', 'ümlaut', 'n'.repeat(65)]) {
    it(`refuses '${name.length > 10 ? `${name.length} characters` : name}'`, () => {
      expect(userNameProblem(name)).to.equal(`a user name is 1 to 64 letters, digits, '_', '.', '@' or '-'; got '${name}'`);
    });
  }
  it('keeps anonymous for jobs submitted without a token', () => {
    expect(userNameProblem('anonymous')).to.equal("'anonymous' is the owner of jobs submitted without a token; it cannot be a user");
  });
});
