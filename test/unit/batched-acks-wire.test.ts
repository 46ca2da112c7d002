import { expect } from 'chai';
import { attrsToLoad, decodeOrchestratorMessage, encodeMessage, loadToAttrs, MAX_ACKS_PER_MESSAGE, MAX_BODY_BYTES, type AgentLoad } from '../../protocol/index.js';

const acksBody = (acks: unknown[]) => JSON.stringify({ v: 1, type: 'acks', acks });
const entries = (count: number) => Array.from({ length: count }, (_, i) => ({ job: `job-${i}`, seq: i + 1 }));
const LOAD: AgentLoad = { slots: 2, running: 0, load1: 0.5, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };

describe('the wire of acknowledgements in batches', function () {
  describe('the acks message (docs/protocol.md §4.2.4)', function () {
    it(`decodes 1 to ${MAX_ACKS_PER_MESSAGE} entries`, function () {
      for (const count of [1, MAX_ACKS_PER_MESSAGE]) {
        expect(decodeOrchestratorMessage(acksBody(entries(count)))).to.deep.equal({ ok: true, message: { v: 1, type: 'acks', acks: entries(count) } });
      }
    });

    it(`fits ${MAX_ACKS_PER_MESSAGE} entries of the longest job ids and seqs in one body`, function () {
      const acks = Array.from({ length: MAX_ACKS_PER_MESSAGE }, (_, i) => ({ job: String(i).padStart(64, 'j'), seq: Number.MAX_SAFE_INTEGER }));
      const bytes = Buffer.byteLength(encodeMessage({ v: 1, type: 'acks', acks }));
      expect(bytes).to.be.below(MAX_BODY_BYTES / 2);
    });

    const refusals: [string, string, string][] = [
      ['no entries', acksBody([]), 'acks: /acks must NOT have fewer than 1 items'],
      [`${MAX_ACKS_PER_MESSAGE + 1} entries`, acksBody(entries(MAX_ACKS_PER_MESSAGE + 1)), `acks: /acks must NOT have more than ${MAX_ACKS_PER_MESSAGE} items`],
      ['seq 0', acksBody([{ job: 'a', seq: 1 }, { job: 'b', seq: 0 }]), 'acks: /acks/1/seq must be >= 1'],
      ['a fractional seq', acksBody([{ job: 'a', seq: 1.5 }]), 'acks: /acks/0/seq must be integer'],
      ['an entry without a job', acksBody([{ seq: 1 }]), "acks: /acks/0 must have required property 'job'"],
      ['an unknown member of an entry', acksBody([{ job: 'a', seq: 1, at: 0 }]), "acks: /acks/0: unknown property 'at'"],
      ['no list', JSON.stringify({ v: 1, type: 'acks' }), "acks: (body) must have required property 'acks'"],
    ];
    for (const [what, body, error] of refusals) {
      it(`refuses ${what} with one line`, function () {
        expect(decodeOrchestratorMessage(body)).to.deep.equal({ ok: false, error });
      });
    }
  });

  describe("the presence's features (docs/protocol.md §2.1)", function () {
    const withFeatures = (features: string | undefined) => attrsToLoad({ ...loadToAttrs(LOAD), ...(features !== undefined && { features }) });

    it('writes the features an agent announces as one space-separated attribute, and reads them back', function () {
      const attrs = loadToAttrs({ ...LOAD, features: ['acks'] });
      expect(attrs['features']).to.equal('acks');
      expect(attrsToLoad(attrs)).to.deep.equal({ ...LOAD, features: ['acks'] });
      expect(loadToAttrs({ ...LOAD, features: [] }), 'an agent without features').to.not.have.property('features');
    });

    it('reads the known words of the list, ignores the others, and reads none from a list without them, as from an older agent', function () {
      expect(withFeatures('later acks  other')).to.deep.include({ features: ['acks'] });
      expect(withFeatures('acks acks')).to.deep.include({ features: ['acks'] });
      for (const features of [undefined, '', 'later', 'ACKS', 'acks-v2']) expect(withFeatures(features), String(features)).to.deep.equal(LOAD);
    });
  });
});
