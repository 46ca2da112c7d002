import { expect } from 'chai';
import type { ProcessSpec } from '../../protocol/index.js';
import { refuseUnsupportedPatterns } from '../../src/registry/catalog-patterns.js';

function process(id: string, pattern?: string): ProcessSpec {
  const word = pattern === undefined ? { type: 'string' as const } : { type: 'string' as const, pattern };
  return { id, keywords: [], version: '1.0.0', inputs: { count: { type: 'integer' }, word }, outputs: {}, maxParallel: 1, file: `${id}.properties` };
}

describe('refuseUnsupportedPatterns', () => {
  it('keeps processes whose patterns the linear-time engine runs, however they nest', () => {
    const processes = [process('plain'), process('evil', '^(a+)+$')];
    expect(refuseUnsupportedPatterns(processes, [])).to.deep.equal({ processes, invalid: [], refused: [] });
  });

  it("lists a process with an unusable pattern after the agent's own invalid files, with the reason", () => {
    const broken = { file: 'broken.properties', reason: "missing required key 'executable'" };
    const refused = [
      { file: 'back.properties', reason: "process 'back': input 'word': pattern uses a feature the linear-time engine does not support: backreference \\1" },
      {
        file: 'open.properties',
        reason: "process 'open': input 'word': pattern is not a valid regular expression: Invalid regular expression: /(/u: Unterminated group",
      },
    ];
    const checked = refuseUnsupportedPatterns([process('back', '(a)\\1'), process('plain'), process('open', '(')], [broken]);
    expect(checked).to.deep.equal({ processes: [process('plain')], invalid: [broken, ...refused], refused });
  });
});
