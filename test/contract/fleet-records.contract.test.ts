import { expect } from 'chai';
import { eventually } from '../helpers/cluster.js';
import { forEachRecords } from './records-under-test.js';

const T1 = new Date('2024-05-01T12:00:00.000Z');
const T2 = new Date('2024-05-01T13:00:00.000Z');

forEachRecords('Fleet records contract: agent accounts, process pools, drained accounts, agents seen', (subject, backend) => {
  it('adds an account with its pool, again with a new one, and revokes it once', async () => {
    const { agentAccounts } = subject().records;
    expect(await agentAccounts.add('w1@example.org', 'gpu', T1)).to.deep.equal({ jid: 'w1@example.org', pool: 'gpu', created: T1.toISOString(), revoked: null });
    expect(agentAccounts.poolOf('w1@example.org')).to.equal('gpu');
    expect(agentAccounts.poolOf('w2@example.org')).to.equal(undefined);

    expect(await agentAccounts.revoke('w1@example.org', T2)).to.equal(true);
    expect(await agentAccounts.revoke('w1@example.org', T2)).to.equal(false);
    expect(await agentAccounts.revoke('nobody@example.org')).to.equal(false);
    expect(agentAccounts.poolOf('w1@example.org')).to.equal(undefined);
    expect(agentAccounts.list()).to.deep.equal([{ jid: 'w1@example.org', pool: 'gpu', created: T1.toISOString(), revoked: T2.toISOString() }]);

    // Added again after its revocation: active, in the new pool.
    await agentAccounts.add('w1@example.org', 'cpu', T2);
    expect(agentAccounts.poolOf('w1@example.org')).to.equal('cpu');
  });

  it('adds accounts in bulk, the last entry of a JID winning, listed by JID', async () => {
    const { agentAccounts } = subject().records;
    await agentAccounts.add('a@example.org', 'old');
    await agentAccounts.revoke('a@example.org');
    await agentAccounts.addMany(
      [
        { jid: 'c@example.org', pool: 'p1' },
        { jid: 'a@example.org', pool: 'p1' },
        { jid: 'b@example.org', pool: 'p1' },
        { jid: 'b@example.org', pool: 'p2' },
      ],
      T1,
    );
    expect(agentAccounts.list().map(({ jid, pool, revoked }) => [jid, pool, revoked])).to.deep.equal([
      ['a@example.org', 'p1', null],
      ['b@example.org', 'p2', null],
      ['c@example.org', 'p1', null],
    ]);
  });

  it('sees accounts another orchestrator or a command adds and revokes, within a second', async () => {
    const { agentAccounts } = subject().records;
    const other = await subject().another();
    await other.agentAccounts.addMany([{ jid: 'w1@example.org', pool: 'gpu' }]);
    await eventually(() => agentAccounts.poolOf('w1@example.org'), 1000, 'account added elsewhere');
    await other.agentAccounts.revoke('w1@example.org');
    await eventually(() => (agentAccounts.poolOf('w1@example.org') === undefined ? true : undefined), 1000, 'account revoked elsewhere');
  });

  it('keeps which pool owns each process id, the newest claim winning', async () => {
    const { processPools } = subject().records;
    expect(await processPools.all()).to.deep.equal(new Map());
    await processPools.set(['echo', 'slow', 'echo'], 'gpu');
    await processPools.set(['slow'], 'cpu');
    const expected = new Map([
      ['echo', 'gpu'],
      ['slow', 'cpu'],
    ]);
    expect(await processPools.all()).to.deep.equal(expected);
    expect(await (await subject().reopen()).processPools.all()).to.deep.equal(expected);
  });

  it('keeps drained accounts until undrained', async () => {
    const { drainedAccounts } = subject().records;
    await drainedAccounts.set('w1@example.org', true);
    await drainedAccounts.set('w1@example.org', true);
    await drainedAccounts.set('w2@example.org', true);
    await drainedAccounts.set('w2@example.org', false);
    await drainedAccounts.set('w3@example.org', false);
    expect(await drainedAccounts.all()).to.deep.equal(new Set(['w1@example.org']));
    expect(await (await subject().reopen()).drainedAccounts.all()).to.deep.equal(new Set(['w1@example.org']));
  });

  it('tells every orchestrator on a shared database of the claims and drains any of them stores', async function () {
    if (!backend.shared) this.skip();
    const { processPools, drainedAccounts } = subject().records;
    const other = await subject().another();
    const claims: [string, string][] = [];
    const drains: [string, boolean][] = [];
    processPools.onStored((stored) => claims.push(...stored));
    drainedAccounts.onStored((account, drained) => drains.push([account, drained]));
    await other.processPools.set(['echo', 'clip'], 'gis');
    await other.processPools.set(['clip'], 'gpu');
    const expected = new Map([
      ['echo', 'gis'],
      ['clip', 'gpu'],
    ]);
    await eventually(() => (new Map(claims).get('clip') === 'gpu' ? true : undefined), 1000, 'the newest claim heard');
    expect(new Map(claims)).to.deep.equal(expected);

    await other.drainedAccounts.set('w1@example.org', true);
    await eventually(() => (drains.at(-1)?.[1] === true ? true : undefined), 1000, 'the drain heard');
    await other.drainedAccounts.set('w1@example.org', false);
    await eventually(() => (drains.at(-1)?.[1] === false ? true : undefined), 1000, 'the undrain heard');
    expect(new Set(drains.map(([account]) => account))).to.deep.equal(new Set(['w1@example.org']));
  });

  it('remembers agents, newest sighting wins, and survives a re-open', async () => {
    const { agents } = subject().records;
    expect(await agents.known()).to.deep.equal([]);
    await agents.remember('a@x/1', new Date('2024-01-01T00:00:05.000Z'));
    await agents.remember('b@x/1', new Date('2024-01-01T00:00:01.000Z'));
    await agents.remember('b@x/1', new Date('2024-01-01T00:00:09.000Z'));
    await agents.remember('a@x/1', new Date('2024-01-01T00:00:02.000Z'));
    const expected = [
      { jid: 'b@x/1', lastSeen: '2024-01-01T00:00:09.000Z' },
      { jid: 'a@x/1', lastSeen: '2024-01-01T00:00:05.000Z' },
    ];
    expect(await agents.known()).to.deep.equal(expected);
    expect(await (await subject().reopen()).agents.known()).to.deep.equal(expected);
  });
});
