import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalInputSpec, ServiceDefinition } from '../services/service-definition.js';

export type ConfinedInputs = { ok: true; inputs: Record<string, unknown> } | { ok: false; message: string };

// GDAL reads any name under /vsi…/ (/vsicurl/, /vsis3/, /vsizip/, …) as a virtual file system.
const GDAL_VIRTUAL_FILE = /^\/vsi/i;
// `http:`, `ftp:`, `file:`, and the driver prefixes of GDAL (`PG:`, `WMS:`, `NETCDF:`, …).
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Checks the path inputs of a run (those with `within`) and gives them as real paths: the value
 * (or the default) must be absolute, and its real path (symbolic links followed; for a path that
 * does not exist yet, that of its nearest existing parent) must lie inside one of the directories.
 * The program gets the real path, so what was checked is what it opens.
 */
export async function confinePaths(service: Pick<ServiceDefinition, 'inputs'>, inputs: Record<string, unknown>): Promise<ConfinedInputs> {
  const confined = { ...inputs };
  for (const [name, spec] of Object.entries(service.inputs)) {
    if (!spec.within) continue;
    const value = Object.hasOwn(inputs, name) ? inputs[name] : spec.default;
    // Absent, or with a NUL that the argument builder refuses.
    if (value === undefined || (typeof value === 'string' && value.includes('\0'))) continue;
    if (typeof value !== 'string') return { ok: false, message: `input '${name}' must be a string` };
    const checked = await confinedPath(name, { within: spec.within, allowUrls: spec.allowUrls === true }, value);
    if (typeof checked !== 'string') return checked;
    confined[name] = checked;
  }
  return { ok: true, inputs: confined };
}

async function confinedPath(name: string, spec: Required<Pick<LocalInputSpec, 'within' | 'allowUrls'>>, value: string): Promise<string | { ok: false; message: string }> {
  const inside = `inside ${spec.within.join(' or ')}`;
  const refuse = (rule: string) => ({ ok: false as const, message: `input '${name}' must be ${rule}` });
  if (GDAL_VIRTUAL_FILE.test(value) || SCHEME.test(value)) return spec.allowUrls ? value : refuse(`a path ${inside}, not a URL or GDAL virtual file`);
  if (!path.isAbsolute(value)) return refuse(`an absolute path ${inside}`);
  // A program may drop `a/..` by itself, without looking at what `a` is; that would undo the check.
  if (value.split('/').includes('..')) return refuse(`a path without '..' ${inside}`);
  const real = await realPath(value);
  if (real === undefined || !spec.within.some((dir) => isWithin(dir, real))) return refuse(`a path ${inside} (symbolic links followed)`);
  return real;
}

/** The real path of `file`, or undefined when it is (or passes through) a link to nothing. */
async function realPath(file: string): Promise<string | undefined> {
  const missing: string[] = [];
  let current = path.normalize(file);
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...missing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
    }
    // It exists but cannot be resolved: a dangling link, whose target could be made anywhere.
    if (await fs.lstat(current).then(() => true, () => false)) return undefined;
    missing.unshift(path.basename(current));
    current = path.dirname(current);
  }
}

function isWithin(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
