import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LocalOutputSpec } from '../services/service-definition.js';
import { formatBytes } from './capture-buffers.js';
import type { LocalOutputValue } from './run-types.js';
import { ArchiveEntryError, zipDirectory } from './zip-directory.js';

export type CollectResult = { ok: true; outputs: Record<string, LocalOutputValue> } | { ok: false; message: string };

class OutputError extends Error {}

/**
 * Reads a successful run's outputs from its stdout and work directory. Files must be regular
 * files whose real path stays inside the work directory's real path.
 */
export async function collectOutputs(
  specs: Record<string, LocalOutputSpec>,
  stdout: Buffer,
  workDir: string,
  maxBytes: number,
): Promise<CollectResult> {
  // Looked up once, and only for outputs read from files: those from stdout need no look at the disk.
  let realRoot: Promise<string> | undefined;
  const root = () => (realRoot ??= realpath(workDir));
  const outputs: Record<string, LocalOutputValue> = {};
  try {
    for (const [name, spec] of Object.entries(specs)) {
      outputs[name] = await collectOne(name, spec, stdout, root, maxBytes);
    }
  } catch (error) {
    if (error instanceof OutputError) return { ok: false, message: error.message };
    throw error;
  }
  return { ok: true, outputs };
}

async function collectOne(name: string, spec: LocalOutputSpec, stdout: Buffer, realRoot: () => Promise<string>, maxBytes: number): Promise<LocalOutputValue> {
  if (spec.from.kind === 'stdout') {
    // Service files cannot declare this; stdout is text here, never a file.
    if (spec.type === 'file') throw new OutputError(`output '${name}': a file output must name its file`);
    return { kind: 'value', value: decode(name, spec.type, stdout) };
  }
  const root = await realRoot();
  const relative = spec.from.path;
  if (spec.from.kind === 'directory') return archiveValue(name, spec, relative, root);
  const { file, size } = spec.from.kind === 'operator-file' ? await resolveOperatorFile(name, relative) : await resolveInside(name, relative, root, 'file');
  if (spec.type === 'file') return fileValue(file, spec.mediaType, size);
  if (size > maxBytes) throw new OutputError(`output '${name}': file '${relative}' exceeds ${formatBytes(maxBytes)}`);
  return { kind: 'value', value: decode(name, spec.type, await readFile(file)) };
}

function decode(name: string, type: 'string' | 'json', bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  if (type === 'string') return text.replace(/\r?\n$/, '');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new OutputError(`output '${name}' is not valid JSON: ${(error as Error).message}`);
  }
}

function fileValue(file: string, mediaType: string | undefined, size: number, filename = path.basename(file)): LocalOutputValue {
  return { kind: 'file', path: file, size, filename, ...(mediaType !== undefined && { mediaType }) };
}

/**
 * A directory output, zipped next to the run's files under a name no output path can take (`~`
 * ends it), and offered for download as `<directory name>.zip`.
 */
async function archiveValue(name: string, spec: LocalOutputSpec, relative: string, root: string): Promise<LocalOutputValue> {
  const { file: directory } = await resolveInside(name, relative, root, 'directory');
  const archive = path.join(root, `${name}.zip~`);
  try {
    await zipDirectory(directory, archive, relative);
  } catch (error) {
    if (error instanceof ArchiveEntryError) throw new OutputError(`output '${name}': ${error.message}`);
    throw error;
  }
  return fileValue(archive, spec.mediaType, (await stat(archive)).size, `${path.basename(directory)}.zip`);
}

/** The real path of a regular file (or a directory) named relative to the work directory, refusing any escape. */
async function resolveInside(name: string, relative: string, root: string, kind: 'file' | 'directory'): Promise<{ file: string; size: number }> {
  const escapes = new OutputError(`output '${name}': ${kind} '${relative}' escapes the work directory`);
  const candidate = path.resolve(root, relative);
  if (!isInside(root, candidate)) throw escapes;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new OutputError(`output '${name}': ${kind} '${relative}' was not created`);
    throw error;
  }
  if (!isInside(root, real)) throw escapes;
  const info = await stat(real);
  if (kind === 'directory' ? !info.isDirectory() : !info.isFile()) {
    throw new OutputError(`output '${name}': ${kind} '${relative}' is not a ${kind === 'file' ? 'regular file' : 'directory'}`);
  }
  return { file: real, size: info.size };
}

/** A regular file at an absolute path the operator wrote in a WPS Remote service.config (docs/security.md). */
async function resolveOperatorFile(name: string, file: string): Promise<{ file: string; size: number }> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new OutputError(`output '${name}': file '${file}' was not created`);
    throw error;
  });
  if (!info.isFile()) throw new OutputError(`output '${name}': file '${file}' is not a regular file`);
  return { file, size: info.size };
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root + path.sep);
}
