import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** What a package's package.json says of itself; `license` was once an object ({ type, url }). */
export interface PackageManifest {
  name: string;
  version: string;
  license?: string | { type?: string };
}

/** LICENSE, LICENCE.md, license-MIT, COPYING and the like, at the top of a package. */
const LICENSE_FILE = /^(licen[cs]e|copying)([.\-_].*)?$/i;

/** The package folder a bundled file comes from, up to its last `node_modules/<name>`; undefined for the project's own files. */
export function packageFolder(input: string): string | undefined {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return undefined;
  return parts.slice(0, at + (parts[at + 1]!.startsWith('@') ? 3 : 2)).join('/');
}

/** A package's license: its license files, or else the license its package.json names; undefined when it states none. */
export function licenseText(dir: string, manifest: PackageManifest): string | undefined {
  const files = readdirSync(dir).filter((file) => LICENSE_FILE.test(file)).sort();
  if (files.length > 0) return files.map((file) => readFileSync(path.join(dir, file), 'utf8').trim()).join('\n\n');
  const license = typeof manifest.license === 'string' ? manifest.license : manifest.license?.type;
  return license && `${manifest.name} ships no license file; its package.json names the license ${license}.`;
}

/** THIRD-PARTY-LICENSES of a bundle: each package's license under its name and version, in name order. */
export function thirdPartyLicenses(bundle: string, licenses: Map<string, string>): string {
  const sections = [...licenses].sort(([a], [b]) => a.localeCompare(b)).map(([title, text]) => `${'-'.repeat(72)}\n${title}\n\n${text}\n`);
  return `${bundle} contains the following ${licenses.size} packages, under these licenses.\n\n${sections.join('\n')}`;
}
