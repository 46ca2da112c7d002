import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord } from '../../src/store/job-record.js';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { copyExamples } from '../helpers/examples.js';

const bare = (jid: string) => jid.split('/')[0]!;

describe('admin API against real agents: draining, and the jobs of all users', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  let north: TestAgent;
  let south: TestAgent;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow', 'echo', 'fail');
    north = await cluster.addAgent('north', servicesDir, { slots: 2 });
    south = await cluster.addAgent('south', servicesDir, { slots: 2 });
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  /** Every admin request goes through here: the one place that says how an admin authenticates. */
  const admin = (route: string, init?: RequestInit) => cluster.adminApi(`${cluster.orchestrator.url}${route}`, init);
  const adminJson = async <T>(route: string, init?: RequestInit): Promise<T> => {
    const response = await admin(route, init);
    expect(response.status, `${route}: ${await response.clone().text()}`).to.equal(200);
    return (await response.json()) as T;
  };
  const submit = async (owner: string, processId: string, inputs: Record<string, unknown> = {}) =>
    (await cluster.orchestrator.lifecycle.submit({ processId, inputs, execution: { response: 'document' }, owner })).id;
  const record = (id: string) => cluster.orchestrator.jobStore.get(id)!;
  const all = (ids: string[], status: JobRecord['status']) => ids.every((id) => record(id).status === status);
  const until = (ids: string[], status: JobRecord['status'], timeoutMs = 8000) =>
    eventually(() => (all(ids, status) ? true : undefined), timeoutMs, `${ids.length} job(s) ${status}`);
  const drainedFlags = async () =>
    (await adminJson<{ agents: { jid: string; drained: boolean }[] }>('/admin/agents')).agents.map((a) => [a.jid, a.drained]);

  it('gives a drained agent no new job, lets its running jobs finish, and gives it work again once undrained', async function () {
    const first = await Promise.all(Array.from({ length: 4 }, () => submit('alice', 'slow', { steps: 6, interval: 0.25 })));
    await until(first, 'running', 3000);
    const onNorth = first.filter((id) => record(id).agent === north.jid);
    expect(onNorth).to.have.length(2);

    const drained = await adminJson<{ jid: string; drained: boolean }>(`/admin/agents/${bare(north.jid)}/drain`, { method: 'POST' });
    expect(drained).to.deep.include({ jid: north.jid, drained: true });
    expect(await drainedFlags()).to.deep.equal([
      [north.jid, true],
      [south.jid, false],
    ]);

    // These wait, and must not go to north when its jobs end. South keeps one job per slot waiting
    // (docs/protocol.md §2.1, queue) while `slow` has no run behind it yet; once its 1.5 s runs have
    // ended it counts as long, so nothing more waits behind south's runs (docs/decisions.md).
    const queued = await Promise.all([submit('bob', 'slow', { steps: 25, interval: 0.1 }), submit('bob', 'slow', { steps: 25, interval: 0.1 })]);
    const held = [await submit('bob', 'slow', { steps: 2, interval: 0.1 }), await submit('bob', 'slow', { steps: 2, interval: 0.1 })];
    await until(first, 'successful');
    await until(queued, 'running');
    expect([...queued, ...held].map((id) => record(id).agent)).to.deep.equal([south.jid, south.jid, null, null]);

    // North is idle but drained, south is full: a new job waits.
    const late = await submit('carol', 'slow', { steps: 2, interval: 0.1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(record(late)).to.deep.include({ status: 'accepted', agent: null });

    const undrained = await adminJson<{ jid: string; drained: boolean }>(`/admin/agents/${encodeURIComponent(north.jid)}/undrain`, { method: 'POST' });
    expect(undrained).to.deep.include({ jid: north.jid, drained: false });
    await eventually(() => (record(late).agent === north.jid ? true : undefined), 1000, 'the waiting job dispatched to north');
    expect(all(queued, 'running'), 'dispatched at once, not when south had room').to.equal(true);
    expect(await drainedFlags()).to.deep.equal([
      [north.jid, false],
      [south.jid, false],
    ]);
    await until([...queued, ...held, late], 'successful');
  });

  it('keeps an agent drained when the orchestrator restarts', async function () {
    await adminJson(`/admin/agents/${bare(north.jid)}/drain`, { method: 'POST' });
    await cluster.restartOrchestrator();
    const online = () => cluster.orchestrator.registry.agents().filter((a) => a.catalogHash === a.load.catalog).length === 2;
    await eventually(() => (online() ? true : undefined), 8000, 'both agents back with their catalogs');
    expect(await drainedFlags()).to.deep.equal([
      [north.jid, true],
      [south.jid, false],
    ]);

    // South runs two and keeps two waiting, the fifth waits although north is idle.
    const jobs: string[] = [];
    for (let i = 0; i < 5; i++) jobs.push(await submit('dora', 'slow', { steps: 4, interval: 0.1 }));
    await eventually(() => (jobs.filter((id) => record(id).status === 'running').length === 2 ? true : undefined), 3000, 'two jobs running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(jobs.map((id) => record(id).agent)).to.deep.equal([south.jid, south.jid, south.jid, south.jid, null]);

    await adminJson(`/admin/agents/${bare(north.jid)}/undrain`, { method: 'POST' });
    await until(jobs, 'successful');
  });

  it('answers 404 when draining an agent that is not online', async function () {
    const response = await admin(`/admin/agents/${encodeURIComponent('west@example.org')}/drain`, { method: 'POST' });
    expect(response.status).to.equal(404);
    expect(await response.json()).to.deep.include({ detail: "agent 'west@example.org' is not online" });
  });

  it('lists exactly the jobs matching each filter, over the jobs of all users', async function () {
    const since = new Date().toISOString();
    const jobs = {
      annEcho: await submit('ann', 'echo', { echo: 'one' }),
      annEcho2: await submit('ann', 'echo', { echo: 'two' }),
      annSlow: await submit('ann', 'slow', { steps: 1, interval: 0.05 }),
      benEcho: await submit('ben', 'echo', { echo: 'three' }),
      benFail: await submit('ben', 'fail'),
    };
    const ids = Object.values(jobs);
    await eventually(() => (ids.every((id) => ['successful', 'failed'].includes(record(id).status)) ? true : undefined), 8000, 'all jobs finished');
    const ranOn = (agent: TestAgent) => ids.filter((id) => record(id).agent === agent.jid);
    expect(ranOn(north).length + ranOn(south).length).to.equal(ids.length);
    expect(ranOn(north), 'north got work').not.to.have.length(0);
    expect(ranOn(south), 'south got work').not.to.have.length(0);

    const cases: [string, string[]][] = [
      ['', ids],
      ['user=ann', [jobs.annEcho, jobs.annEcho2, jobs.annSlow]],
      ['user=ben&status=failed', [jobs.benFail]],
      ['processID=echo', [jobs.annEcho, jobs.annEcho2, jobs.benEcho]],
      ['status=successful', [jobs.annEcho, jobs.annEcho2, jobs.annSlow, jobs.benEcho]],
      ['user=ann&processID=slow,fail', [jobs.annSlow]],
      [`agent=${bare(north.jid)}`, ranOn(north)],
      [`agent=${encodeURIComponent(south.jid)}`, ranOn(south)],
      ['user=nobody', []],
    ];
    for (const [query, expected] of cases) {
      // Jobs of the other tests were created earlier, so `datetime` leaves them out.
      const body = await adminJson<{ jobs: { jobID: string; owner: string }[] }>(`/admin/jobs?datetime=${since}/..&${query}`);
      expect(body.jobs.map((j) => j.jobID), query).to.have.members(expected);
    }

    const failed = await adminJson<{ owner: string; agent: string; error: { code: string; exitCode: number; stderr: string } }>(`/admin/jobs/${jobs.benFail}`);
    expect(failed).to.deep.include({ owner: 'ben', agent: record(jobs.benFail).agent });
    expect(failed.error).to.deep.include({ code: 'exit', exitCode: 3, stderr: 'reading input\nerror: input file is corrupt\n' });
  });
});
