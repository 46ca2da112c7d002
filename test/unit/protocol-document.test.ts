import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { loadCatalog, toProcessSpec } from '../../agent/services/catalog.js';
import { catalogMessages } from '../../agent/xmpp/catalog-messages.js';
import { decodeAgentMessage } from '../../protocol/index.js';
import { useTempDir, writeProperties } from '../helpers/temp-services.js';

/** docs/protocol.md §2.1, step 4: no whitespace, object members by name in UTF-16 order, absent members left out. */
const canonicalJson = (value: unknown) =>
  JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );

describe('docs/protocol.md, read as a third party reads it', () => {
  const dir = useTempDir();

  it('§2.1: recomputes the reference agent\'s catalog hash from the definition of the canonical catalog JSON', async () => {
    // Inputs declared out of alphabetical order, one file with max_parallel and one without, text that needs escaping.
    await writeProperties(dir(), 'b.properties', {
      service: 'beta',
      executable: '/bin/echo',
      max_parallel: '2',
      inputs: JSON.stringify({ zeta: { type: 'string', description: 'said "twice"\nthen once' }, alpha: { type: 'number', default: 1 } }),
      outputs: JSON.stringify({ result: { type: 'string', from: 'stdout', mediaType: 'text/plain' } }),
    });
    await writeProperties(dir(), 'a.properties', { service: 'alpha', title: 'Café ✓', executable: '/bin/echo' });
    await writeProperties(dir(), 'z.properties', { service: 'broken' });
    await writeProperties(dir(), 'c.properties', { executable: '/bin/echo' });
    const catalog = await loadCatalog(dir());
    const slots = 4;
    // What goes on the wire, as the agent sends it.
    const [wire] = catalogMessages(catalog.hash, [...catalog.services.values()].map((service) => toProcessSpec(service, slots)), catalog.invalid, catalog.notes);
    const declaredMaxParallel: Record<string, number | null> = { alpha: null, beta: 2 };
    const declaredInputOrder: Record<string, string[]> = { alpha: [], beta: ['zeta', 'alpha'] };

    const processes = [...wire!.processes]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((spec) => ({ ...spec, maxParallel: declaredMaxParallel[spec.id], inputs: declaredInputOrder[spec.id]!.map((name) => [name, spec.inputs[name]]) }));
    const invalid = [...wire!.invalid].sort((a, b) => (a.file < b.file ? -1 : 1));
    const notes = wire!.notes ?? [];
    const hash = createHash('sha256').update(canonicalJson({ invalid, notes, processes }), 'utf8').digest('hex');

    expect(wire!.processes.map((p) => [p.id, p.maxParallel])).to.deep.equal([['alpha', 4], ['beta', 2]]);
    expect(invalid.map((i) => i.file)).to.deep.equal(['c.properties', 'z.properties']);
    expect(hash).to.equal(catalog.hash);
    expect(wire!.hash).to.equal(catalog.hash);
  });

  it('§4.1.8: takes a `jobs` entry with seq 0, a job that has sent nothing yet, and refuses a negative seq', () => {
    const body = (seq: number) => JSON.stringify({ v: 1, type: 'jobs', jobs: [{ job: 'j1', process: 'echo', seq }] });
    expect(decodeAgentMessage(body(1)).ok).to.equal(true);
    expect(decodeAgentMessage(body(0)).ok).to.equal(true);
    expect(decodeAgentMessage(body(-1))).to.deep.equal({ ok: false, error: 'jobs: /jobs/0/seq must be >= 0' });
  });
});
