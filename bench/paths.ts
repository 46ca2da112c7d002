import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root; the bench runs from `dist/bench`, while scripts and services stay in place. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const distBench = fileURLToPath(new URL('./', import.meta.url));
export const peerDir = path.join(repoRoot, 'bench', 'peer');
