import { expect } from 'chai';
import type { AuditRecord } from '../../src/store/audit-store.js';
import { forEachRecords } from './records-under-test.js';

const at = (minute: number, second = 0) => new Date(Date.UTC(2024, 4, 1, 12, minute, second));
const action = (target: string, actor = 'root'): AuditRecord => ({ actor, action: 'agent.add', target, source: '10.0.0.1', detail: { pool: 'p' } });

forEachRecords('Audit log contract: entries, refused authentications, filters, trimming', (subject) => {
  it('lists entries newest first with every field, and pages them', async () => {
    const { audit } = subject().records;
    await audit.record(action('a'), at(1));
    await audit.record({ actor: 'cli', action: 'token.create', source: 'local:root' }, at(2));
    await audit.record(action('c', 'eve'), at(3));
    const page = await audit.list({ limit: 2, offset: 0 });
    expect(page.more).to.equal(true);
    expect(page.entries.map(({ id: _id, ...entry }) => entry)).to.deep.equal([
      { at: at(3).toISOString(), actor: 'eve', action: 'agent.add', target: 'c', source: '10.0.0.1', detail: { pool: 'p' }, count: 1 },
      { at: at(2).toISOString(), actor: 'cli', action: 'token.create', target: null, source: 'local:root', detail: null, count: 1 },
    ]);
    expect(typeof page.entries[0]!.id).to.equal('number');
    const rest = await audit.list({ limit: 2, offset: 2 });
    expect([rest.more, rest.entries.map((entry) => entry.target)]).to.deep.equal([false, ['a']]);
  });

  it('filters by actions, actor and time, all at once', async () => {
    const { audit } = subject().records;
    await audit.record(action('a'), at(1));
    await audit.record({ ...action('b'), action: 'job.kill' }, at(2));
    await audit.record(action('c', 'eve'), at(3));
    await audit.record(action('d'), at(4));
    const targets = async (filter: object) => (await audit.list({ limit: 10, offset: 0, ...filter })).entries.map((entry) => entry.target);
    expect(await targets({ actions: ['job.kill', 'agent.add'] })).to.deep.equal(['d', 'c', 'b', 'a']);
    expect(await targets({ actions: ['job.kill'] })).to.deep.equal(['b']);
    expect(await targets({ actor: 'root', since: at(2).toISOString(), until: at(4).toISOString() })).to.deep.equal(['d', 'b']);
    expect(await targets({ actions: ['agent.add'], actor: 'root', until: at(3).toISOString() })).to.deep.equal(['a']);
  });

  it('counts refused authentications of one source in one row a minute, keeping the last reason', async () => {
    const { audit } = subject().records;
    await audit.refusedAuthentication('10.0.0.9', 'unknown token', at(1, 5));
    await audit.refusedAuthentication('10.0.0.9', 'revoked token', at(1, 50));
    await audit.refusedAuthentication('10.0.0.8', 'unknown token', at(1, 55));
    await audit.refusedAuthentication('10.0.0.9', 'unknown token', at(2, 1));
    const { entries } = await audit.list({ limit: 10, offset: 0, actions: ['auth.refused'] });
    expect(entries.map(({ at: when, actor, source, detail, count }) => [when, actor, source, detail, count])).to.deep.equal([
      [at(2, 1).toISOString(), 'unauthenticated', '10.0.0.9', { reason: 'unknown token' }, 1],
      [at(1, 55).toISOString(), 'unauthenticated', '10.0.0.8', { reason: 'unknown token' }, 1],
      [at(1, 5).toISOString(), 'unauthenticated', '10.0.0.9', { reason: 'revoked token' }, 2],
    ]);
  });

  it('removes entries older than a time, oldest first, a batch at a time', async () => {
    const { audit } = subject().records;
    for (let minute = 1; minute <= 5; minute += 1) await audit.record(action(`t${minute}`), at(minute));
    expect(await audit.removeOlderThan(at(4), 2)).to.equal(2);
    expect(await audit.removeOlderThan(at(4), 2)).to.equal(1);
    expect(await audit.removeOlderThan(at(4), 2)).to.equal(0);
    expect((await audit.list({ limit: 10, offset: 0 })).entries.map((entry) => entry.target)).to.deep.equal(['t5', 't4']);
  });
});

forEachRecords('Callback store contract: deliveries kept until made or given up', (subject) => {
  const T = 1_700_000_000_000;

  it('makes each job’s deliveries in order: only its oldest is due', async () => {
    const { callbacks } = subject().records;
    expect(await callbacks.nextDue()).to.equal(undefined);
    await callbacks.add('j1', 'success', 'http://h/1', '{"a":1}', T + 10);
    await callbacks.add('j2', 'failed', 'http://h/2', '{"b":2}', T + 5);
    await callbacks.progress('j3', 'http://h/3', '{"p":1}', T + 20);
    expect(await callbacks.nextDue()).to.equal(T + 5);
    const due = await callbacks.due(T + 15, 10);
    expect(due.map(({ id: _id, ...delivery }) => delivery)).to.deep.equal([
      { jobId: 'j2', kind: 'failed', uri: 'http://h/2', body: '{"b":2}', attempts: 0, nextAt: T + 5, created: T + 5 },
      { jobId: 'j1', kind: 'success', uri: 'http://h/1', body: '{"a":1}', attempts: 0, nextAt: T + 10, created: T + 10 },
    ]);
    await callbacks.remove(due[0]!.id);
    await callbacks.delivered(due[1]!.id, '{"a":1}');
    expect((await callbacks.due(T + 20, 10)).map((delivery) => delivery.jobId)).to.deep.equal(['j3']);
  });

  it('replaces progress not yet made, and drops it for the final word', async () => {
    const { callbacks } = subject().records;
    await callbacks.progress('j1', 'http://h/p', '{"p":1}', T);
    await callbacks.progress('j1', 'http://h/p', '{"p":2}', T + 1);
    const [first] = await callbacks.due(T + 1, 10);
    expect([first!.body, first!.nextAt]).to.deep.equal(['{"p":2}', T + 1]);
    await callbacks.add('j1', 'success', 'http://h/s', '{"done":true}', T + 2);
    expect((await callbacks.due(Number.MAX_SAFE_INTEGER, 10)).map((delivery) => delivery.kind)).to.deep.equal(['success']);
  });

  it('retries later with the attempt counted, and keeps progress that replaced a body being made', async () => {
    const { callbacks } = subject().records;
    await callbacks.add('j1', 'failed', 'http://h/f', '{}', T);
    const [failed] = await callbacks.due(T, 10);
    await callbacks.retryAt(failed!.id, T + 1000);
    expect(await callbacks.nextDue()).to.equal(T + 1000);
    expect((await callbacks.due(T + 1000, 10)).map((delivery) => delivery.attempts)).to.deep.equal([1]);

    await callbacks.progress('j2', 'http://h/p', '{"p":1}', T);
    const [making] = await callbacks.due(T, 10);
    await callbacks.progress('j2', 'http://h/p', '{"p":2}', T);
    await callbacks.delivered(making!.id, '{"p":1}');
    expect((await callbacks.due(Number.MAX_SAFE_INTEGER, 10)).filter((delivery) => delivery.jobId === 'j2').map((delivery) => delivery.body)).to.deep.equal(['{"p":2}']);
  });

  it('keeps deliveries when the database is opened again', async () => {
    await subject().records.callbacks.add('j1', 'success', 'http://h/1', '{}', T);
    expect((await (await subject().reopen()).callbacks.due(T, 10)).map((delivery) => delivery.jobId)).to.deep.equal(['j1']);
  });
});
