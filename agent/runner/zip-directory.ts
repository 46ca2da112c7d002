import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ZipFile } from 'yazl';

/** A directory entry that cannot go into an archive; the message names it relative to the work directory. */
export class ArchiveEntryError extends Error {}

/**
 * Writes every file and folder under `directory` into a new zip file `archive`, named relative to
 * `directory` (a Shapefile's `.shp`, `.shx`, `.dbf` sit at the archive's top). Only regular files
 * and folders are taken: a link could lead out of the work directory, so it ends the output.
 * `shownAs` is how messages name the directory.
 */
export async function zipDirectory(directory: string, archive: string, shownAs: string): Promise<void> {
  // Loaded on first use: most agents never zip, and each module loaded stays in the agent's memory.
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  await addFolder(zip, directory, '', shownAs);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(archive, { flags: 'wx', mode: 0o600 }));
}

async function addFolder(zip: ZipFile, folder: string, prefix: string, shownAs: string): Promise<void> {
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const name = `${prefix}${entry.name}`;
    const real = path.join(folder, entry.name);
    if (entry.isFile()) {
      zip.addFile(real, name);
    } else if (entry.isDirectory()) {
      zip.addEmptyDirectory(name);
      await addFolder(zip, real, `${name}/`, shownAs);
    } else {
      throw new ArchiveEntryError(`'${shownAs}/${name}' is neither a regular file nor a folder`);
    }
  }
}
