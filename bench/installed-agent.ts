import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/**
 * Installs dist/outpost-agent.tgz (built by `npm run build`) into `prefix` as a user installs it
 * on a remote machine: offline, from the package alone. Returns the installed `outpost-agent`.
 */
export async function installAgentPackage(prefix: string): Promise<string> {
  await mkdir(prefix, { recursive: true });
  const tarball = path.join(repoRoot, 'dist', 'outpost-agent.tgz');
  const args = ['install', '-g', '--prefix', prefix, '--offline', '--cache', path.join(prefix, '.npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier', tarball];
  await run('npm', args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: prefix } }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`installing ${tarball} failed (run npm run build first): ${error.stderr?.trim() || error.message}`);
  });
  return path.join(prefix, 'bin', 'outpost-agent');
}
