import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { openDatabase } from '../../src/store/database.js';
import { UserStore } from '../../src/store/user-store.js';
import { withToken, TEST_USER } from '../helpers/api.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { at, jobRecord, spec, startHarness, type Harness } from '../helpers/http-harness.js';

describe('HTTP job events: a revoked token ends its streams', () => {
  let h: Harness;
  let reader: EventStreamReader | undefined;
  afterEach(async () => {
    await reader?.close().catch(() => undefined);
    await h.close();
  });

  /** A stream on a running job, opened with a token of its own; resolves after the first status. */
  async function openStream(heartbeatMs: number): Promise<{ tokenId: string }> {
    h = await startHarness([spec('echo')], { heartbeatMs });
    h.jobs.create(jobRecord('run', { status: 'running', created: at(0), started: at(1), updated: at(2) }));
    const token = await h.users.issueToken(TEST_USER, 'stream');
    const response = await withToken(token.token)(`${h.url}/jobs/run/events`);
    expect(response.status).to.equal(200);
    reader = new EventStreamReader(response);
    expect((await reader.next())?.event).to.equal('status');
    return { tokenId: token.id };
  }

  async function expectRevokedEnd(timeoutMs: number): Promise<void> {
    const event = await reader!.next(timeoutMs);
    expect(event?.event).to.equal('revoked');
    expect(JSON.parse(event!.data)).to.deep.equal({ type: ERROR_TYPES.unauthorized, status: 401, detail: 'token has been revoked' });
    expect(await reader!.next(timeoutMs)).to.equal(undefined);
    expect(h.updates.listenerCount('run')).to.equal(0);
    expect(h.users.listenerCount('token-revoked')).to.equal(0);
  }

  it('at once when the admin API revokes it, and not when another token is revoked', async () => {
    const { tokenId } = await openStream(60_000);
    const other = await h.users.issueToken(TEST_USER, 'other');
    expect((await h.adminApi(`${h.url}/admin/tokens/${other.id}`, { method: 'DELETE' })).status).to.equal(200);
    h.updates.publish(h.jobs.update('run', { progress: 50 })!);
    expect((await reader!.next(1000))?.event).to.equal('status');

    expect((await h.adminApi(`${h.url}/admin/tokens/${tokenId}`, { method: 'DELETE' })).status).to.equal(200);
    await expectRevokedEnd(1000);
  });

  it('by the next keep-alive when another process revokes it on the same database', async () => {
    const { tokenId } = await openStream(100);
    const db = openDatabase(h.databaseFile);
    try {
      await new UserStore(db).revokeToken(tokenId);
    } finally {
      db.close();
    }
    await expectRevokedEnd(2000);
  });
});
