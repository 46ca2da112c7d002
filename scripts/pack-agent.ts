import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * After `tsc`: dist/outpost-agent.tgz, the agent as a package of its own with every dependency
 * bundled (docs/decisions.md, Fabric), so a machine that reaches only the orchestrator installs it
 * with no registry and no compiler. The compiled rooms keep their layout of dist/, so their
 * relative imports resolve; the dependencies keep their place in the root node_modules, which npm
 * has already deduplicated, so each one finds the same copy of its own dependencies as here.
 */

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bundleDependencies?: string[];
  scripts?: Record<string, string>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = path.join(root, 'dist');
/** What the agent consists of; the import graph test keeps them from importing anything else of the repository. */
const ROOMS = ['agent', 'protocol', 'xmpp', 'net'];
const AGENT_TARBALL = path.join(dist, 'outpost-agent.tgz');
const BIN = `#!/usr/bin/env node
import '../agent/small-heap.js';

// Loaded after the heap settings above, which apply only to what comes later.
const { main } = await import('../agent/main.js');
await main();
`;
/** npm runs these, or node-gyp for a binding.gyp, when it installs a package. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

class PackError extends Error {}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'package.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    throw new PackError(`${path.relative(root, file)}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Compiled JavaScript files of a folder of dist/, relative to dist/. */
const compiledFiles = (room: string) =>
  readdirSync(path.join(dist, room), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => path.join(room, file));

/** Static imports and re-exports, side-effect imports, and dynamic imports of a literal. */
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Packages the compiled code imports (type-only imports are gone after tsc), by the file that imports each first. */
function importedPackages(): Map<string, string> {
  const imported = new Map<string, string>();
  for (const file of ROOMS.flatMap(compiledFiles)) {
    const text = readFileSync(path.join(dist, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match.slice(1).find((group) => group !== undefined)!;
      if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      if (!imported.has(name)) imported.set(name, file);
    }
  }
  return imported;
}

/** agent/package.json must list exactly what the agent imports, at the root's version ranges, all bundled. */
function checkManifest(agent: Manifest, rootManifest: Manifest): void {
  if (agent.version !== rootManifest.version) throw new PackError(`agent/package.json has version ${agent.version}, the root package ${rootManifest.version}`);
  const listed = Object.keys(agent.dependencies ?? {});
  const imported = importedPackages();
  for (const [name, file] of imported) {
    if (!listed.includes(name)) throw new PackError(`dist/${file} imports '${name}', which agent/package.json does not list`);
  }
  for (const name of listed) {
    if (!imported.has(name)) throw new PackError(`agent/package.json lists '${name}', which ${ROOMS.join('/, ')}/ do not import`);
    const range = agent.dependencies![name];
    if (range !== rootManifest.dependencies?.[name]) throw new PackError(`agent/package.json wants ${name}@${range}, the root package ${rootManifest.dependencies?.[name]}`);
  }
  if ([...(agent.bundleDependencies ?? [])].sort().join() !== [...listed].sort().join()) {
    throw new PackError('agent/package.json must bundle every dependency (bundleDependencies = the names of dependencies)');
  }
}

/** Where Node finds `name` from a package folder: the nearest `node_modules/name` up to the root. */
function locate(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (path.basename(dir) !== 'node_modules' && existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.relative(root, dir) === '') return undefined;
  }
}

/** Every package the agent needs at run time, as folders relative to the root: its dependencies and theirs. */
function dependencyClosure(names: string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string, from: string, required: boolean) => {
    const dir = locate(name, from);
    if (!dir) {
      if (required) throw new PackError(`'${name}' (needed from ${path.relative(root, from) || 'the root'}) is not installed: run npm ci`);
      return;
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = readManifest(dir);
    const scripts = INSTALL_SCRIPTS.filter((script) => manifest.scripts?.[script]);
    if (scripts.length > 0 || existsSync(path.join(dir, 'binding.gyp'))) {
      throw new PackError(`${manifest.name} would run ${scripts[0] ?? 'node-gyp'} on install; the agent package must install without building anything`);
    }
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, true);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.peerDependencies ?? {})) visit(dep, dir, !manifest.peerDependenciesMeta?.[dep]?.optional);
  };
  for (const name of names) visit(name, root, true);
  return [...found].map((dir) => path.relative(root, dir)).sort();
}

/** Files a package ships that nothing runs: source maps, TypeScript sources and declarations. */
const NOT_RUN = /\.(map|[cm]?ts)$/;
/** Folders at the top of a package that nothing runs; its node_modules, since those needed are copied in their own right. */
const NOT_RUN_FOLDERS = new Set(['test', 'tests', '__tests__', 'benchmark', 'benchmarks', 'node_modules']);

function copyPackage(relative: string, into: string): void {
  const from = path.join(root, relative);
  cpSync(from, path.join(into, relative), {
    recursive: true,
    dereference: true,
    filter: (source) => {
      if (source.endsWith('.node')) throw new PackError(`${relative} ships a native module, ${path.relative(from, source)}; the agent's dependencies must be plain JavaScript`);
      return !NOT_RUN_FOLDERS.has(path.relative(from, source)) && !NOT_RUN.test(source);
    },
  });
}

function pack(): void {
  const agent = readManifest(path.join(root, 'agent'));
  checkManifest(agent, readManifest(root));
  const bundled = dependencyClosure(Object.keys(agent.dependencies ?? {}));
  const staging = mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-pack-'));
  try {
    for (const room of ROOMS) {
      for (const file of compiledFiles(room)) {
        mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
        cpSync(path.join(dist, file), path.join(staging, file));
      }
    }
    // The launcher built for this platform, if any (scripts/build-launcher.ts).
    if (existsSync(path.join(dist, 'prebuilt'))) cpSync(path.join(dist, 'prebuilt'), path.join(staging, 'prebuilt'), { recursive: true });
    mkdirSync(path.join(staging, 'bin'));
    writeFileSync(path.join(staging, 'bin', 'outpost-agent.js'), BIN, { mode: 0o755 });
    cpSync(path.join(root, 'agent', 'package.json'), path.join(staging, 'package.json'));
    for (const relative of bundled) copyPackage(relative, staging);
    // Offline: packing reads only the folder, and must not wait for a registry that may be out of reach.
    const output = execFileSync('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--no-update-notifier', '--pack-destination', dist], {
      cwd: staging,
      encoding: 'utf8',
    });
    const [{ filename, size, entryCount }] = JSON.parse(output) as [{ filename: string; size: number; entryCount: number }];
    renameSync(path.join(dist, filename), AGENT_TARBALL);
    process.stderr.write(`${path.relative(root, AGENT_TARBALL)}: ${(size / 1024).toFixed(0)} KiB, ${entryCount} files, ${bundled.length} bundled packages\n`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

try {
  pack();
} catch (err) {
  if (!(err instanceof PackError)) throw err;
  process.stderr.write(`pack-agent: ${err.message}\n`);
  process.exit(1);
}
