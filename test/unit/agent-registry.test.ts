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

  it('keeps an agent drained when it goes away and comes back, also after the link was lost', () => {
    registry.setDrained('north@example.org/agent', true);
    registry.remove('north@example.org/agent');
    registry.clear();
    registry.updatePresence('north@example.org/agent', LOAD);
    expect(registry.isDrained('north@example.org/agent')).to.equal(true);
    expect(registry.isDrained('east@example.org/agent')).to.equal(false);
  });
});
