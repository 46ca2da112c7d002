import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalInputSpec } from './service-definition.js';
import { fail } from './validation.js';

const MAX_DIRECTORIES = 50;

/** The agent-local keys of an input declaration, taken apart from the ones that are published. */
export function splitLocalKeys(value: Record<string, unknown>): { published: Record<string, unknown>; local: Record<string, unknown> } {
  const { within, allowUrls, ...published } = value;
  return { published, local: { within, allowUrls } };
}

/** Checks `within` (absolute directories) and `allowUrls` of input `subject` of type `type`. */
export function parseConfinement(subject: string, type: string, local: Record<string, unknown>): Pick<LocalInputSpec, 'within' | 'allowUrls'> {
  const { within, allowUrls } = local;
  if (within === undefined) {
    if (allowUrls !== undefined) fail(`${subject}: allowUrls only applies to inputs with within`);
    return {};
  }
  if (type !== 'string') fail(`${subject}: within only applies to string inputs`);
  if (!Array.isArray(within) || within.length === 0 || within.length > MAX_DIRECTORIES) {
    fail(`${subject}: within must be a list of 1 to ${MAX_DIRECTORIES} directories`);
  }
  for (const dir of within) {
    if (typeof dir !== 'string' || !path.isAbsolute(dir)) fail(`${subject}: within must list absolute directory paths`);
  }
  if (allowUrls !== undefined && typeof allowUrls !== 'boolean') fail(`${subject}: allowUrls must be true or false`);
  return allowUrls === undefined ? { within: within as string[] } : { within: within as string[], allowUrls };
}

/**
 * Replaces each `within` directory by its real path, so a value's real path can be compared with
 * it; a directory that is missing (or no directory) makes the file invalid.
 */
export async function resolveConfinedDirs(inputs: Record<string, LocalInputSpec>): Promise<Record<string, LocalInputSpec>> {
  const resolved = await Promise.all(
    Object.entries(inputs).map(async ([name, spec]): Promise<[string, LocalInputSpec]> => {
      if (!spec.within) return [name, spec];
      return [name, { ...spec, within: await Promise.all(spec.within.map((dir) => realDirectory(name, dir))) }];
    }),
  );
  return Object.fromEntries(resolved);
}

async function realDirectory(input: string, dir: string): Promise<string> {
  const real = await fs.realpath(dir).catch(() => fail(`input '${input}': within directory '${dir}' does not exist`));
  const stat = await fs.stat(real);
  if (!stat.isDirectory()) fail(`input '${input}': within '${dir}' is not a directory`);
  return real;
}
