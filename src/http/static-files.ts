import { readFile } from 'node:fs/promises';
import type { Context } from 'koa';
import { OutpostError } from '../errors.js';

export interface StaticFiles {
  /** The folder the files are read from, ending in `/`. */
  dir: string;
  /** The only files served, with their media types: nothing else of the disk is reachable. */
  files: Record<string, string>;
  /** The Content-Security-Policy the files are served under. */
  csp: string;
  /** Names the set in a 404, e.g. `the admin page`. */
  what: string;
}

/** Serves one of a fixed set of files from the package, with the headers every page file gets. */
export function staticFileServer({ dir, files, csp, what }: StaticFiles): (ctx: Context, file: string) => Promise<void> {
  return async (ctx, file) => {
    const type = Object.hasOwn(files, file) ? files[file] : undefined;
    if (!type) throw new OutpostError('not-found', 404, `no such file of ${what}: '${file}'`);
    ctx.type = type;
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await readFile(`${dir}${file}`);
  };
}
