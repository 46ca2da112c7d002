import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileNote, InvalidFile, ProcessSpec } from '../../protocol/index.js';
import { publishedInput } from './option-safety.js';
import { SERVICE_CONFIG, readAnyServiceFile } from './service-file.js';
import type { ServiceDefinition } from './service-definition.js';
import { withoutUndefined } from './validation.js';

/** What an agent offers: the valid services by process id, the files it refused, and a hash of both. */
export interface Catalog {
  services: Map<string, ServiceDefinition>;
  /** Sorted by file name. */
  invalid: InvalidFile[];
  /** Notes on the valid files (keys they set that are ignored), in file name order. */
  notes: FileNote[];
  /** sha256 hex of the published descriptions, the invalid files and the notes; equal folders give equal hashes. */
  hash: string;
}

/**
 * Reads every `*.properties` and `*.config` file of `dir`, and the `service.config` of each of its
 * folders (a WPS Remote module's layout), in file name order. Hidden files and editor leftovers
 * (`.#x`, `x~`, `.x.swp`) are skipped; inactive files are left out; when two files define the
 * same process id, the first one wins and the later one is listed as invalid.
 */
export async function loadCatalog(dir: string): Promise<Catalog> {
  const files = (await serviceFiles(dir)).sort();
  const results = await Promise.all(files.map((file) => readAnyServiceFile(dir, file)));
  const services = new Map<string, ServiceDefinition>();
  const invalid: InvalidFile[] = [];
  const notes: FileNote[] = [];
  for (const result of results) {
    if (result.status === 'invalid') invalid.push(result.invalid);
    if (result.status !== 'valid') continue;
    const { id, file } = result.service;
    const earlier = services.get(id);
    if (earlier) invalid.push({ file, reason: `process id '${id}' is already defined by ${earlier.file}` });
    else services.set(id, result.service);
    if (!earlier) notes.push(...(result.notes ?? []).map((note) => ({ file, note })));
  }
  return { services, invalid, notes, hash: catalogHash(services, invalid, notes) };
}

async function serviceFiles(dir: string): Promise<string[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(entry.name, SERVICE_CONFIG));
  const inFolders = await Promise.all(folders.map((file) => fs.stat(path.join(dir, file)).then((stat) => (stat.isFile() ? [file] : []), () => [])));
  return [...entries.map((entry) => entry.name).filter((name) => name.endsWith('.properties') || name.endsWith('.config')), ...inFolders.flat()];
}

/** The wire form of a service: what the orchestrator publishes, nothing about how it runs. */
export function toProcessSpec(service: ServiceDefinition, slots: number): ProcessSpec {
  const outputs = Object.entries(service.outputs).map(([name, { type, title, description, mediaType, formats }]) => [
    name,
    withoutUndefined({ type, title, description, mediaType, formats: formats && Object.keys(formats) }),
  ]);
  return withoutUndefined({
    id: service.id,
    title: service.title,
    description: service.description,
    keywords: service.keywords,
    version: service.version,
    inputs: Object.fromEntries(Object.entries(service.inputs).map(([name, spec]) => [name, publishedInput(service, name, spec)])),
    outputs: Object.fromEntries(outputs),
    maxParallel: Math.min(service.maxParallel ?? slots, slots),
    file: service.file,
    keepJobs: service.keepJobs,
  });
}

/**
 * True when two loads publish the same and would run the same programs the same way; unlike the
 * hash, this also sees changes that stay on the agent (executable, arguments, env, timeout).
 */
export function sameCatalog(a: Catalog, b: Catalog): boolean {
  return a.hash === b.hash && canonicalJson([...a.services.values()]) === canonicalJson([...b.services.values()]);
}

function catalogHash(services: Map<string, ServiceDefinition>, invalid: InvalidFile[], notes: FileNote[]): string {
  const processes = [...services.values()]
    .sort((a, b) => compare(a.id, b.id))
    // maxParallel as the file declares it (null: the agent's slots), so the hash does not depend on slots.
    .map((service) => {
      const published = toProcessSpec(service, 1);
      return { ...published, maxParallel: service.maxParallel ?? null, inputs: Object.entries(published.inputs) };
    });
  const refused = [...invalid].sort((a, b) => compare(a.file, b.file));
  return createHash('sha256').update(canonicalJson({ processes, invalid: refused, notes })).digest('hex');
}

/** JSON with object keys sorted, so equal content always gives equal text (input order is kept as entries). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compare(a, b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
