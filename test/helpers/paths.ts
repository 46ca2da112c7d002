import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root; tests run from `dist/test`, sources and fixtures stay in place. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
export const fixture = (...parts: string[]) => path.join(fixturesDir, ...parts);
