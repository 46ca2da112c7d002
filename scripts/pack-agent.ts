import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions, type Message, type Metafile } from 'esbuild';
import { licenseText, packageFolder, thirdPartyLicenses, type PackageManifest } from './third-party-licenses.js';

/**
 * After `tsc`: dist/outpost-agent.tgz, the agent as a package of its own, so a machine that reaches
 * only the orchestrator installs it with no registry and no compiler (docs/decisions.md, Fabric).
 * The compiled agent and every package it imports go into one file, which loads in far less
 * memory than hundreds of module files (docs/decisions.md, Performance). The package holds that
 * file, the command that loads it, the prebuilt launcher and the bundled packages' licenses.
 */

interface Manifest extends PackageManifest {
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = path.join(root, 'dist');
const AGENT_TARBALL = path.join(dist, 'outpost-agent.tgz');
const BUNDLE = 'outpost-agent.mjs';
const BIN = 'bin/outpost-agent.js';
/**
 * The command. ESM runs static imports before the module's own code, so the heap settings are
 * imported (and inlined from dist/agent/) and the bundle is loaded by import() after them; the
 * bundle's path is left as written, relative to the installed bin/.
 */
const BIN_SOURCE = `#!/usr/bin/env node
import './small-heap.js';

// Loaded after the heap settings above, which apply only to what comes later.
const { main } = await import('../${BUNDLE}');
await main();
`;
/** Dependencies written in CommonJS call `require`, which an ES module has only when it makes one. */
const REQUIRE_IN_ESM = `import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);`;
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

const where = (message: Message) => (message.location ? ` (${message.location.file}:${message.location.line})` : '');

/** One ES module for Node 20 in memory; what esbuild finds wrong, as a one-line error. */
function build(options: BuildOptions & { metafile: true }): { code: Uint8Array; metafile: Metafile } {
  let result;
  try {
    result = buildSync({ ...options, absWorkingDir: root, bundle: true, format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'silent' });
  } catch (err) {
    const first = (err as { errors?: Message[] }).errors?.[0];
    if (!first) throw err;
    throw new PackError(`bundling ${options.outfile}: ${first.text}${where(first)}`);
  }
  const warning = result.warnings[0];
  if (warning) throw new PackError(`bundling ${options.outfile}: ${warning.text}${where(warning)}`);
  return { code: result.outputFiles[0]!.contents, metafile: result.metafile };
}

/** The agent and everything it imports from dist/agent/main.js, minified. */
const bundleAgent = () =>
  build({
    entryPoints: [path.join(dist, 'agent', 'main.js')],
    outfile: BUNDLE,
    minify: true,
    banner: { js: REQUIRE_IN_ESM },
    // THIRD-PARTY-LICENSES carries the full texts.
    legalComments: 'none',
    metafile: true,
  });

const buildBin = () =>
  build({
    stdin: { contents: BIN_SOURCE, resolveDir: path.join(dist, 'agent'), sourcefile: BIN },
    outfile: BIN,
    external: [`../${BUNDLE}`],
    metafile: true,
  }).code;

/** Packages the agent's own files import (type-only imports are gone after tsc), by the file that imports each first. */
function importedPackages(metafile: Metafile): Map<string, string> {
  const imported = new Map<string, string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (packageFolder(file)) continue;
    for (const { path: resolved, original } of input.imports) {
      const specifier = original ?? resolved;
      if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
      const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      if (!imported.has(name)) imported.set(name, file);
    }
  }
  return imported;
}

/** agent/package.json must list exactly what the agent imports, at the root's version ranges. */
function checkManifest(agent: Manifest, rootManifest: Manifest, metafile: Metafile): void {
  if (agent.version !== rootManifest.version) throw new PackError(`agent/package.json has version ${agent.version}, the root package ${rootManifest.version}`);
  const listed = Object.keys(agent.dependencies ?? {});
  const imported = importedPackages(metafile);
  for (const [name, file] of imported) {
    if (!listed.includes(name)) throw new PackError(`${file} imports '${name}', which agent/package.json does not list`);
  }
  for (const name of listed) {
    if (!imported.has(name)) throw new PackError(`agent/package.json lists '${name}', which the agent does not import`);
    const range = agent.dependencies![name];
    if (range !== rootManifest.dependencies?.[name]) throw new PackError(`agent/package.json wants ${name}@${range}, the root package ${rootManifest.dependencies?.[name]}`);
  }
}

/**
 * A package that builds something when npm installs it (an install script, node-gyp) or ships a
 * native module would need that build on the remote machine, which a bundle cannot carry.
 */
function checkPlainJavaScript(dir: string, manifest: Manifest): void {
  const scripts = INSTALL_SCRIPTS.filter((script) => manifest.scripts?.[script]);
  if (scripts.length > 0 || existsSync(path.join(dir, 'binding.gyp'))) {
    throw new PackError(`${manifest.name} would run ${scripts[0] ?? 'node-gyp'} on install; the agent's dependencies must install without building anything`);
  }
  const native = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((file) => file.endsWith('.node') && !file.split(path.sep).includes('node_modules'));
  if (native) throw new PackError(`${manifest.name} ships a native module, ${native}; the agent's dependencies must be plain JavaScript`);
}

/** The license of every package that went into the bundle, after checking that each is plain JavaScript. */
function bundledLicenses(metafile: Metafile): Map<string, string> {
  const folders = new Set(Object.keys(metafile.inputs).flatMap((input) => packageFolder(input) ?? []));
  const licenses = new Map<string, string>();
  for (const folder of folders) {
    const dir = path.join(root, folder);
    const manifest = readManifest(dir);
    checkPlainJavaScript(dir, manifest);
    const title = `${manifest.name}@${manifest.version}`;
    const text = licenseText(dir, manifest);
    if (!text) throw new PackError(`${title} has no license file and no license in its package.json; it cannot go into ${BUNDLE}`);
    licenses.set(title, text);
  }
  return licenses;
}

function pack(): void {
  const agent = readManifest(path.join(root, 'agent'));
  const { code, metafile } = bundleAgent();
  checkManifest(agent, readManifest(root), metafile);
  const licenses = bundledLicenses(metafile);
  const staging = mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-pack-'));
  try {
    writeFileSync(path.join(staging, BUNDLE), code);
    mkdirSync(path.join(staging, path.dirname(BIN)));
    writeFileSync(path.join(staging, BIN), buildBin(), { mode: 0o755 });
    writeFileSync(path.join(staging, 'THIRD-PARTY-LICENSES'), thirdPartyLicenses(BUNDLE, licenses));
    // The launcher built for this platform, if any (scripts/build-launcher.ts).
    if (existsSync(path.join(dist, 'prebuilt'))) cpSync(path.join(dist, 'prebuilt'), path.join(staging, 'prebuilt'), { recursive: true });
    // Everything is in the bundle: npm has nothing to fetch or bundle.
    const { dependencies: _imports, ...manifest } = agent;
    writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // Offline: packing reads only the folder, and must not wait for a registry that may be out of reach.
    const output = execFileSync('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--no-update-notifier', '--pack-destination', dist], {
      cwd: staging,
      encoding: 'utf8',
    });
    const [{ filename, size, entryCount }] = JSON.parse(output) as [{ filename: string; size: number; entryCount: number }];
    renameSync(path.join(dist, filename), AGENT_TARBALL);
    process.stderr.write(`${path.relative(root, AGENT_TARBALL)}: ${(size / 1024).toFixed(0)} KiB, ${entryCount} files, ${licenses.size} packages in ${BUNDLE}\n`);
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
