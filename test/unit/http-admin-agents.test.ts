import { expect } from 'chai';
import { ERROR_TYPES } from '../../src/errors.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

interface AgentView {
  jid: string;
  assigned: number;
  drained: boolean;
  load: { slots: number; running: number; draining: boolean };
  links?: { href: string; rel: string }[];
}

/** The harness's one agent. */
const WORKER = 'worker@example.org/a';
const SPARE = 'worker@example.org/b';
const LOAD = { slots: 3, running: 0, load1: 0.5, cores: 4, memFree: 1e9, catalog: 'h2', draining: false };

describe('HTTP admin agents: drain, undrain and processes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo', { title: 'Echo' }), spec('noop', { version: '2.0.0' })]);
    h.registry.updatePresence(SPARE, LOAD);
    h.registry.setCatalog(SPARE, 'h2', [spec('echo', { title: 'Echo' }), spec('noop', { version: '1.5.0' })], []);
  });
  afterEach(() => h.close());

  const post = (path: string) => h.adminApi(`${h.url}${path}`, { method: 'POST' });
  const agents = async () => ((await (await h.adminApi(`${h.url}/admin/agents`)).json()) as { agents: AgentView[] }).agents;

  it('shows each agent’s load at each presence as loadHistory', async () => {
    h.registry.updatePresence(SPARE, { ...LOAD, running: 2, load1: 1.25 }, undefined, new Date('2024-05-01T12:00:30Z'));
    const spare = (await agents()).find((agent) => agent.jid === SPARE) as AgentView & { loadHistory: unknown[] };
    expect(spare.loadHistory).to.have.length(2);
    expect(spare.loadHistory[1]).to.deep.equal({ at: '2024-05-01T12:00:30.000Z', running: 2, slots: 3, load1: 1.25 });
  });

  it('drains an agent named by its URL-encoded full JID and answers its view', async () => {
    let changes = 0;
    h.registry.on('changed', () => changes++);
    const response = await post(`/admin/agents/${encodeURIComponent(WORKER)}/drain`);
    expect(response.status).to.equal(200);
    const body = (await response.json()) as AgentView;
    expect(body).to.deep.include({ jid: WORKER, drained: true });
    expect(body.links).to.deep.equal([{ href: `${h.url}/admin/agents/worker%40example.org%2Fa`, rel: 'self', type: 'application/json', title: 'agent' }]);
    expect(changes, 'placement is told').to.equal(1);
    // The account is drained, so its other connection is too; the agent's own flag is unchanged.
    expect((await agents()).map((a) => [a.jid, a.drained, a.load.draining])).to.deep.equal([
      [WORKER, true, false],
      [SPARE, true, false],
    ]);
  });

  it('undrains by bare JID and answers the view of the account’s first connection', async () => {
    h.registry.setDrained(WORKER, true);
    const response = await post('/admin/agents/worker@example.org/undrain');
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.include({ jid: WORKER, drained: false });
    expect((await agents()).map((a) => a.drained)).to.deep.equal([false, false]);
  });

  it('answers 404 for an agent that is not online, naming it', async () => {
    for (const [path, jid] of [
      ['/admin/agents/nobody%40example.org/drain', 'nobody@example.org'],
      [`/admin/agents/${encodeURIComponent('worker@example.org/c')}/undrain`, 'worker@example.org/c'],
    ]) {
      const response = await post(path!);
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.include({ type: ERROR_TYPES['not-found'], detail: `agent '${jid}' is not online` });
    }
    expect(h.registry.isDrained('nobody@example.org')).to.equal(false);
  });

  it('shows the agent by bare or full JID', async () => {
    for (const name of ['worker@example.org', encodeURIComponent(SPARE)]) {
      const response = await h.adminApi(`${h.url}/admin/agents/${name}`);
      expect(response.status).to.equal(200);
      expect(((await response.json()) as AgentView).jid).to.equal(name === 'worker@example.org' ? WORKER : SPARE);
    }
  });

  it('counts the unfinished jobs handed to each agent, whatever its last presence said', async () => {
    h.jobs.create(jobRecord('j1', { status: 'running', agent: SPARE }));
    h.jobs.create(jobRecord('j2', { status: 'accepted', agent: SPARE }));
    h.jobs.create(jobRecord('j3', { status: 'successful', agent: SPARE }));
    h.jobs.create(jobRecord('j4', { status: 'accepted' }));
    expect((await agents()).map((a) => [a.jid, a.assigned, a.load.running])).to.deep.equal([
      [WORKER, 0, 0],
      [SPARE, 2, 0],
    ]);
  });

  it('lists the processes on offer with their agents and conflicting descriptions', async () => {
    const response = await h.adminApi(`${h.url}/admin/processes`);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({
      processes: [
        { id: 'echo', title: 'Echo', version: '1.0.0', pool: 'worker@example.org', agents: [WORKER, SPARE], conflicts: [], refused: [] },
        { id: 'noop', version: '2.0.0', pool: 'worker@example.org', agents: [WORKER], conflicts: [{ jid: SPARE, version: '1.5.0' }], refused: [] },
      ],
      links: [{ href: `${h.url}/admin/processes`, rel: 'self', type: 'application/json', title: 'processes on offer' }],
    });
  });

  it('is behind the admin guard', async () => {
    const asUser = await h.api(`${h.url}/admin/agents/worker@example.org/drain`, { method: 'POST' });
    expect(asUser.status).to.equal(403);
    expect((await fetch(`${h.url}/admin/processes`)).status).to.equal(401);
    expect(h.registry.isDrained(WORKER)).to.equal(false);
  });
});

describe('HTTP admin pools: accounts and who owns a process id', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo')]);
  });
  afterEach(() => h.close());

  const put = (id: string, body: string) => h.adminApi(`${h.url}/admin/processes/${id}/pool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });

  it('hands a process id to another pool', async () => {
    const response = await put('echo', '{"pool": "gis"}');
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.include({ id: 'echo', pool: 'gis' });
    expect(h.registry.owner('echo')).to.equal('gis');
    // The harness's agent is in another pool now: its offer is refused.
    expect(h.registry.process('echo')).to.equal(undefined);
  });

  it('refuses a bad pool or process id with one line, changing nothing', async () => {
    for (const [id, body, detail] of [
      ['echo', '{"pool": "a b"}', "a pool name is 1 to 100 letters, digits, '_', '.', '@' or '-'; got 'a b'"],
      ['echo', '{}', "request body must have 'pool'"],
      ['bad%20id', '{"pool": "gis"}', "'bad id' is not a process id"],
    ] as const) {
      const response = await put(id, body);
      expect(response.status).to.equal(400);
      expect((await problemOf(response)).detail).to.equal(detail);
    }
    expect(h.registry.owner('echo')).to.equal('worker@example.org');
  });

  it('lists the accounts provisioned as agents', async () => {
    const response = await h.adminApi(`${h.url}/admin/agent-accounts`);
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { accounts: unknown[] }).accounts).to.deep.equal([]);
  });
});
