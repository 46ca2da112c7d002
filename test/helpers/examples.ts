import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** The example services shipped in `services.d/`. */
export const examplesDir = path.join(repoRoot, 'services.d');

/**
 * Copies example services into `dir`. The examples name their programs relative to
 * services.d; the copies point at the same programs by absolute path.
 */
export async function copyExamples(dir: string, ...names: string[]): Promise<void> {
  for (const name of names) {
    const text = await readFile(path.join(examplesDir, `${name}.properties`), 'utf8');
    await writeFile(path.join(dir, `${name}.properties`), text.replace(/^executable = bin\//m, `executable = ${examplesDir}/bin/`));
  }
}
