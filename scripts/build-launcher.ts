import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * After `tsc`: dist/prebuilt/linux-x64/outpost-launcher from the C files in agent/launcher/,
 * shipped in the agent package so remote machines compile nothing. Other platforms get none and
 * the agent uses Node's spawn there (agent/runner/launcher.ts).
 */
const PLATFORMS = new Set(['linux-x64']);
const LAUNCHER_SOURCES = ['outpost-launcher.c', 'launcher-events.c'];
const root = fileURLToPath(new URL('../../', import.meta.url));
const platform = `${process.platform}-${process.arch}`;

if (PLATFORMS.has(platform)) {
  const output = path.join(root, 'dist', 'prebuilt', platform, 'outpost-launcher');
  mkdirSync(path.dirname(output), { recursive: true });
  const compiler = process.env['CC'] || 'cc';
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', output, ...LAUNCHER_SOURCES.map((file) => path.join(root, 'agent', 'launcher', file))], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    process.stderr.write(`build-launcher: ${compiler} could not build the launcher: ${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write(`build-launcher: no launcher for ${platform}; agents there start runs with Node's spawn\n`);
}
