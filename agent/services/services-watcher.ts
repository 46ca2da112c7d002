import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import { loadCatalog, sameCatalog, type Catalog } from './catalog.js';

export interface ServicesWatcher {
  /** The newest catalog; look services up here at run time rather than keeping an old one. */
  current(): Catalog;
  /** Stops watching; resolves once a rescan in progress has finished. Safe to call again. */
  close(): Promise<void>;
}

export interface WatchServicesOptions {
  /** Quiet time after a folder event before rescanning, so a burst of writes costs one rescan. */
  debounceMs?: number;
  /** Interval of full rescans, which catch what fs.watch misses (e.g. chmod of an executable). */
  rescanMs?: number;
  /** Rescan failures (e.g. the folder was removed); each distinct failure is reported once. */
  onError?: (err: Error) => void;
}

/**
 * Loads the services folder, then keeps the catalog current. `onChange` is not called for the
 * first load (see `current()`), and afterwards only when something changed: the published hash,
 * or a service's agent-side settings (executable, arguments, env, timeout, progress).
 */
export async function watchServices(
  dir: string,
  onChange: (catalog: Catalog) => void,
  options: WatchServicesOptions = {},
): Promise<ServicesWatcher> {
  const { debounceMs = 50, rescanMs = 2000, onError = (err: Error) => process.emitWarning(err) } = options;
  await checkFolder(dir);
  let catalog = await loadCatalog(dir);
  let closed = false;
  let scanning: Promise<void> | undefined;
  let again = false;
  let lastError: string | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  /**
   * A change is published only once a second read, `debounceMs` later, agrees with the first:
   * an editor or `cat >` truncates a file before writing it, and that empty moment must not
   * withdraw the process. Undefined means the folder was still changing.
   */
  async function settledCatalog(): Promise<Catalog | undefined> {
    const first = await loadCatalog(dir);
    if (sameCatalog(catalog, first)) return first;
    await new Promise((resolve) => setTimeout(resolve, debounceMs));
    const second = await loadCatalog(dir);
    if (sameCatalog(first, second)) return second;
    again = true;
    return undefined;
  }

  async function scanUntilSettled(): Promise<void> {
    do {
      again = false;
      try {
        const next = await settledCatalog();
        lastError = undefined;
        if (closed || !next || sameCatalog(catalog, next)) continue;
        catalog = next;
        onChange(next);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (!closed && error.message !== lastError) onError(error);
        lastError = error.message;
      }
    } while (again && !closed);
  }

  function rescan(): void {
    if (closed) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = scanUntilSettled().finally(() => (scanning = undefined));
  }

  const watcher = watch(dir, () => {
    clearTimeout(debounce);
    debounce = setTimeout(rescan, debounceMs);
  });
  watcher.on('error', (err) => onError(err));
  const timer = setInterval(rescan, rescanMs);
  // A change between the first load and the start of watching would otherwise wait for the timer.
  rescan();

  return {
    current: () => catalog,
    close: () =>
      (closing ??= (async () => {
        closed = true;
        clearTimeout(debounce);
        clearInterval(timer);
        watcher.close();
        await scanning;
      })()),
  };
}

/** The services folder is missing or unreadable: a configuration error, which waiting will not cure. */
export class ServicesFolderError extends Error {}

async function checkFolder(dir: string): Promise<void> {
  const stat = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new ServicesFolderError(
      err.code === 'ENOENT' ? `services folder '${dir}' does not exist` : `services folder '${dir}' cannot be read: ${err.message}`,
    );
  });
  if (!stat.isDirectory()) throw new ServicesFolderError(`services folder '${dir}' is not a directory`);
}
