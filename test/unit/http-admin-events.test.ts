import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { JobEventStream, type JobEventListener } from '../../src/jobs/job-events.js';
import { withToken, TEST_ADMIN } from '../helpers/api.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { at, jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

/** The lifecycle's event stream, counting its listeners so that tests see streams stop listening. */
class CountedEvents extends JobEventStream {
  listeners = 0;

  override listen(listener: JobEventListener): () => void {
    this.listeners++;
    const remove = super.listen(listener);
    return () => {
      this.listeners--;
      remove();
    };
  }
}

describe('HTTP admin events: every job change, for admins only', () => {
  let h: Harness;
  let reader: EventStreamReader | undefined;
  afterEach(async () => {
    await reader?.close().catch(() => undefined);
    reader = undefined;
    await h.close();
  });

  it('answers an admin, and 401 without a token and 403 to a user who is not an admin', async () => {
    h = await startHarness([spec('echo')]);
    const anonymous = await fetch(`${h.url}/admin/events`);
    expect(anonymous.status).to.equal(401);
    expect((await problemOf(anonymous)).detail).to.equal("the admin API needs an admin token; send the header 'Authorization: Bearer <token>'");
    const user = await h.api(`${h.url}/admin/events`);
    expect(user.status).to.equal(403);
    expect((await problemOf(user)).detail).to.equal("the admin API needs an admin token; user 'alice' has role 'user'");
    reader = new EventStreamReader(await h.adminApi(`${h.url}/admin/events`));
    expect(await reader.nextItem(1000)).to.deep.equal({ comment: 'listening' });
  });

  it('sends each change of any user’s job with its owner and agent, and a dismissal as removed', async () => {
    h = await startHarness([spec('echo')]);
    const response = await h.adminApi(`${h.url}/admin/events`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    reader = new EventStreamReader(response);

    h.jobs.create(jobRecord('run', { status: 'running', agent: 'worker@example.org/a', created: at(0), started: at(1), updated: at(2) }));
    h.updates.publish(h.jobs.update('run', { progress: 40, message: 'step 2 of 5' })!);
    const event = await reader.next(1000);
    expect(event?.event).to.equal('job');
    const data = JSON.parse(event!.data) as { change: string; job: Record<string, unknown> };
    expect(data.change).to.equal('progress');
    expect(data.job).to.deep.include({ jobID: 'run', status: 'running', progress: 40, message: 'step 2 of 5', owner: 'alice', agent: 'worker@example.org/a' });

    h.updates.events.emit({ type: 'removed', job: h.jobs.get('run')!, reason: 'dismissed' }, (err) => {
      throw err;
    });
    const removed = await reader.next(1000);
    expect([removed?.event, JSON.parse(removed!.data)]).to.deep.equal(['removed', { jobID: 'run', reason: 'dismissed' }]);
  });

  it('stops listening when the client goes away', async () => {
    const jobEvents = new CountedEvents();
    h = await startHarness([spec('echo')], { jobEvents });
    reader = new EventStreamReader(await h.adminApi(`${h.url}/admin/events`));
    expect(jobEvents.listeners).to.equal(1);
    await reader.close();
    reader = undefined;
    const until = Date.now() + 2000;
    while (jobEvents.listeners > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(jobEvents.listeners).to.equal(0);
  });

  it('ends with a revoked event when its token is revoked, and stops listening', async () => {
    const jobEvents = new CountedEvents();
    h = await startHarness([spec('echo')], { heartbeatMs: 60_000, jobEvents });
    const token = await h.users.issueToken(TEST_ADMIN, 'console');
    reader = new EventStreamReader(await withToken(token.token)(`${h.url}/admin/events`));
    expect((await h.adminApi(`${h.url}/admin/tokens/${token.id}`, { method: 'DELETE' })).status).to.equal(200);
    const event = await reader.next(1000);
    expect(event?.event).to.equal('revoked');
    expect(JSON.parse(event!.data)).to.deep.equal({ type: ERROR_TYPES.unauthorized, status: 401, detail: 'token has been revoked' });
    expect(await reader.next(1000)).to.equal(undefined);
    expect(jobEvents.listeners).to.equal(0);
    expect(h.users.listenerCount('token-revoked')).to.equal(0);
  });
});
