import { expect } from 'chai';
import { AgentRegistry } from '../../src/registry/agent-registry.js';

const LOAD = { slots: 2, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };

describe('AgentRegistry', () => {
  let registry: AgentRegistry;
  let changes: number;

  beforeEach(() => {
    registry = new AgentRegistry();
    for (const jid of ['north@example.org/agent', 'north@example.org/spare', 'east@example.org/agent']) registry.updatePresence(jid, LOAD);
    changes = 0;
    registry.on('changed', () => changes++);
  });

  it('names one agent by its full JID and every connection of an account by its bare JID', () => {
    const jids = (name: string) => registry.agentsNamed(name).map((a) => a.jid);
    expect(jids('north@example.org')).to.deep.equal(['north@example.org/agent', 'north@example.org/spare']);
    expect(jids('north@example.org/spare')).to.deep.equal(['north@example.org/spare']);
    expect(jids('north@example.org/other')).to.deep.equal([]);
    expect(jids('nort@example.org')).to.deep.equal([]);
  });

  it('counts the agents online and those whose announced catalog has arrived', () => {
    registry.setCatalog('east@example.org/agent', 'h1', [], []);
    registry.setCatalog('north@example.org/spare', 'h0', [], []);
    expect(registry.counts()).to.deep.equal({ online: 3, catalogsCurrent: 1 });
  });

  it('drains every connection of an account and tells once per change', () => {
    registry.setDrained('north@example.org/agent', true);
    registry.setDrained('north@example.org', true);
    expect(changes).to.equal(1);
    expect(registry.agents().map((a) => [a.jid, registry.isDrained(a.jid)])).to.deep.equal([
      ['east@example.org/agent', false],
      ['north@example.org/agent', true],
      ['north@example.org/spare', true],
    ]);
    registry.setDrained('north@example.org/spare', false);
    expect(changes).to.equal(2);
    expect(registry.isDrained('north@example.org/agent')).to.equal(false);
  });

  it('takes a drain another orchestrator stored without storing it again, telling once per change', () => {
    const stored: unknown[] = [];
    registry = new AgentRegistry({ onDrained: (...change) => stored.push(change) });
    registry.on('changed', () => changes++);
    registry.updatePresence('north@example.org/agent', LOAD);
    changes = 0;
    registry.takeStoredDrain('north@example.org', true);
    registry.takeStoredDrain('north@example.org', true);
    expect([registry.isDrained('north@example.org/agent'), changes]).to.deep.equal([true, 1]);
    registry.takeStoredDrain('north@example.org', false);
    expect([registry.isDrained('north@example.org/agent'), changes, stored]).to.deep.equal([false, 2, []]);
  });

  it('keeps an agent drained when it goes away and comes back, also after the link was lost', () => {
    registry.setDrained('north@example.org/agent', true);
    registry.remove('north@example.org/agent');
    registry.clear();
    registry.updatePresence('north@example.org/agent', LOAD);
    expect(registry.isDrained('north@example.org/agent')).to.equal(true);
    expect(registry.isDrained('east@example.org/agent')).to.equal(false);
  });
});

describe('AgentRegistry: load history', () => {
  const JID = 'north@example.org/agent';
  const minutes = (n: number) => new Date(Date.parse('2024-05-01T12:00:00Z') + n * 60_000);

  it('keeps a sample per presence, oldest first, for the last 10 minutes', () => {
    const registry = new AgentRegistry();
    for (const [minute, running] of [[0, 0], [5, 1], [11, 2]] as const) registry.updatePresence(JID, { ...LOAD, running, load1: running / 2 }, undefined, minutes(minute));
    expect(registry.agent(JID)!.loadHistory).to.deep.equal([
      { at: minutes(5), running: 1, slots: 2, load1: 0.5 },
      { at: minutes(11), running: 2, slots: 2, load1: 1 },
    ]);
  });

  it('keeps at most 60 samples, and starts afresh when the agent comes back', () => {
    const registry = new AgentRegistry();
    for (let i = 0; i < 75; i++) registry.updatePresence(JID, { ...LOAD, running: i }, undefined, minutes(i / 60));
    const history = registry.agent(JID)!.loadHistory;
    expect(history.map((s) => s.running)).to.deep.equal([...Array(60).keys()].map((i) => i + 15));
    registry.remove(JID);
    registry.updatePresence(JID, LOAD, undefined, minutes(2));
    expect(registry.agent(JID)!.loadHistory).to.have.length(1);
  });
});

describe('AgentRegistry: who may offer what', () => {
  const spec = (id: string, version: string, title = id) => ({ id, title, version, keywords: [], inputs: {}, outputs: {}, maxParallel: 1, file: `${id}.properties` });
  let registry: AgentRegistry;
  let claimed: [string[], string][];
  let refusals: unknown[];

  beforeEach(() => {
    claimed = [];
    refusals = [];
    registry = new AgentRegistry({ claims: new Map([['kept', 'gis']]), onClaim: (ids, pool) => claimed.push([ids, pool]) });
    registry.on('refused', (offers) => refusals.push(...offers));
    registry.updatePresence('a@example.org/x', LOAD, 'gis');
    registry.updatePresence('b@example.org/x', LOAD, 'gis');
    registry.updatePresence('rogue@example.org/x', LOAD, 'rogue');
  });

  it('gives an id to the first pool that offers it and refuses other pools, whatever their version', () => {
    registry.setCatalog('a@example.org/x', 'h', [spec('echo', '1.0.0')], []);
    registry.setCatalog('rogue@example.org/x', 'h', [spec('echo', '99.0.0', 'Forged')], []);
    expect(claimed).to.deep.equal([[['echo'], 'gis']]);
    expect(registry.process('echo')).to.deep.include({ pool: 'gis', agents: ['a@example.org/x'], refused: [{ jid: 'rogue@example.org/x', pool: 'rogue', version: '99.0.0' }] });
    expect(registry.process('echo')!.spec.title).to.equal('echo');
    expect(refusals).to.deep.equal([{ process: 'echo', owner: 'gis', jid: 'rogue@example.org/x', pool: 'rogue' }]);
    expect(registry.refusedOffers()).to.deep.equal(refusals);
  });

  it("claims a catalog's new ids in one call, so that they are stored together", () => {
    registry.setCatalog('a@example.org/x', 'h', [spec('echo', '1.0.0'), spec('kept', '1.0.0'), spec('clip', '1.0.0')], []);
    expect(claimed).to.deep.equal([[['echo', 'clip'], 'gis']]);
  });

  it('lets the newest description win within the owning pool', () => {
    registry.setCatalog('a@example.org/x', 'h', [spec('echo', '1.0.0')], []);
    registry.setCatalog('b@example.org/x', 'h', [spec('echo', '1.1.0', 'Echo 1.1')], []);
    expect(registry.process('echo')).to.deep.include({ agents: ['b@example.org/x'], conflicts: [{ jid: 'a@example.org/x', version: '1.0.0' }] });
  });

  it('keeps an id with its pool while none of its agents is online', () => {
    registry.setCatalog('rogue@example.org/x', 'h', [spec('kept', '2.0.0')], []);
    expect(registry.process('kept')).to.equal(undefined);
    expect(registry.owner('kept')).to.equal('gis');
    expect(claimed).to.deep.equal([]);
  });

  it('takes claims another orchestrator stored without storing them again', () => {
    registry.setCatalog('rogue@example.org/x', 'h', [spec('kept', '99.0.0')], []);
    expect(registry.process('kept')).to.equal(undefined);
    let changed = 0;
    registry.on('changed', () => changed++);
    registry.takeStoredClaims(new Map([['kept', 'rogue']]));
    registry.takeStoredClaims(new Map([['kept', 'rogue']]));
    expect(registry.process('kept')).to.deep.include({ pool: 'rogue', agents: ['rogue@example.org/x'] });
    expect([changed, claimed]).to.deep.equal([1, []]);
  });

  it('hands an id to another pool when an admin says so', () => {
    registry.setCatalog('a@example.org/x', 'h', [spec('echo', '1.0.0')], []);
    registry.setCatalog('rogue@example.org/x', 'h', [spec('echo', '99.0.0')], []);
    registry.assign('echo', 'rogue');
    expect(claimed).to.deep.equal([[['echo'], 'gis'], [['echo'], 'rogue']]);
    expect(registry.process('echo')).to.deep.include({ pool: 'rogue', agents: ['rogue@example.org/x'] });
  });
});

describe('AgentRegistry: a fleet', () => {
  const spec = (id: string) => ({ id, title: 'Echo', version: '1.0.0', keywords: ['text'], inputs: { text: { type: 'string' as const } }, outputs: { text: { type: 'string' as const } }, maxParallel: 1, file: 'echo.properties' });
  let registry: AgentRegistry;

  beforeEach(() => {
    registry = new AgentRegistry();
    for (const jid of ['a@example.org/x', 'b@example.org/x']) registry.updatePresence(jid, LOAD, 'gis');
  });

  it('keeps one copy of the parts of descriptions that agents send alike', () => {
    // Each catalog arrives as JSON text of its own, so its parts are copies.
    registry.setCatalog('a@example.org/x', 'h1', JSON.parse(JSON.stringify([spec('echo-a')])), []);
    registry.setCatalog('b@example.org/x', 'h1', JSON.parse(JSON.stringify([spec('echo-b')])), []);
    const [a] = registry.agent('a@example.org/x')!.processes;
    const [b] = registry.agent('b@example.org/x')!.processes;
    expect(a).to.deep.equal(spec('echo-a'));
    expect(b).to.deep.equal(spec('echo-b'));
    expect(a!.inputs).to.equal(b!.inputs);
    expect(a!.outputs).to.equal(b!.outputs);
    expect(a!.keywords).to.equal(b!.keywords);
  });

  it('tells which ids may resolve differently after a catalog, a departure or a hand-over, and says nothing on presence', () => {
    const told: string[][] = [];
    registry.on('offered', (ids) => told.push(ids));
    registry.setCatalog('a@example.org/x', 'h1', [spec('echo'), spec('clip')], []);
    registry.setCatalog('a@example.org/x', 'h2', [spec('clip'), spec('grep')], []);
    registry.updatePresence('a@example.org/x', LOAD, 'gis');
    registry.assign('grep', 'other');
    registry.remove('a@example.org/x');
    expect(told).to.deep.equal([['echo', 'clip'], ['echo', 'clip', 'clip', 'grep'], ['grep'], ['clip', 'grep']]);
  });

  it('lists the agents online without sorting them', () => {
    registry.updatePresence('0@example.org/x', LOAD, 'gis');
    expect(registry.jids()).to.have.members(registry.agents().map((agent) => agent.jid));
  });
});
