import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

/**
 * The layout of docs/architecture.md, checked on the sources: the orchestrator (`src/`) and the
 * agent (`agent/`) never import each other, and what both import is the shared wire protocol
 * (`protocol/`), the shared XMPP plumbing (`xmpp/`) or the shared
 * address guard (`net/`), nothing else.
 */
const SHARED_ROOMS = ['protocol', 'xmpp', 'net'];
/** Which top-level rooms each room may import from. */
const MAY_IMPORT: Record<string, string[]> = {
  protocol: ['protocol'],
  xmpp: ['xmpp', 'protocol'],
  net: ['net'],
  src: ['src', 'protocol', 'xmpp', 'net'],
  agent: ['agent', 'protocol', 'xmpp', 'net'],
  dev: ['dev', 'src', 'agent', 'protocol', 'xmpp'],
  cli: ['cli', 'dev', 'src', 'protocol'],
};

function sources(room: string): string[] {
  const dir = path.join(repoRoot, room);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(dir, file));
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Repository-relative paths (with `.ts`) that a source file imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const target = path.resolve(path.dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, '.ts');
    return path.relative(repoRoot, target);
  });
}

const roomOf = (relative: string) => relative.split(path.sep)[0]!;

describe('import graph: the two programs and what they share', () => {
  const graph = new Map<string, string[]>();
  for (const room of Object.keys(MAY_IMPORT)) {
    for (const file of sources(room)) graph.set(path.relative(repoRoot, file), importsOf(file));
  }

  it('finds the sources and their imports', () => {
    expect(graph.get(path.join('src', 'main.ts'))).to.include(path.join('src', 'config.ts'));
    expect([...graph.keys()].filter((file) => roomOf(file) === 'agent')).to.not.be.empty;
  });

  for (const [room, allowed] of Object.entries(MAY_IMPORT)) {
    it(`${room}/ imports only from ${allowed.join(', ')}`, () => {
      const wrong = [...graph]
        .filter(([file]) => roomOf(file) === room)
        .flatMap(([file, targets]) => targets.filter((t) => !allowed.includes(roomOf(t))).map((t) => `${file} → ${t}`));
      expect(wrong).to.deep.equal([]);
    });
  }

  it('shares between the orchestrator and the agent only the protocol, XMPP plumbing and address guard', () => {
    const importedBy = (room: string) => new Set([...graph].filter(([file]) => roomOf(file) === room).flatMap(([, targets]) => targets));
    const fromAgent = importedBy('agent');
    const both = [...importedBy('src')].filter((target) => fromAgent.has(target));
    expect(both.filter((target) => !SHARED_ROOMS.includes(roomOf(target)))).to.deep.equal([]);
  });
});
