import { readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** State letter and parent pid from /proc, or undefined once the process is fully gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const [state = '', ppid = '0'] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid) };
}

/**
 * Whether a process has died. An orphan's zombie counts as gone: this machine's init reaps
 * orphans only every few seconds, and until then `kill(pid, 0)` still succeeds.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw error;
  }
  return procStat(pid)?.state === 'Z';
}

export async function waitUntilGone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (!isGone(pid)) {
    if (Date.now() > until) return false;
    await sleep(10);
  }
  return true;
}

/** Waits for a fixture to write its pid (a number and a newline) to a file. */
export async function readPidFile(file: string, withinMs = 5000): Promise<number> {
  const until = Date.now() + withinMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\n$/.test(text)) return Number(text);
    if (Date.now() > until) throw new Error(`no pid in ${file}`);
    await sleep(10);
  }
}

/** Live or zombie descendants of a process (runs started through the agent's launcher are its grandchildren). */
function descendantsOf(root: number): number[] {
  const parents = new Map(
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map((name) => [Number(name), procStat(Number(name))?.ppid ?? 0]),
  );
  const under = (pid: number): boolean => {
    for (let up = parents.get(pid) ?? 0; up > 1; up = parents.get(up) ?? 0) if (up === root) return true;
    return false;
  };
  return [...parents.keys()].filter(under);
}

/** Starts watching this process's children; the function returned lists those added since. */
export function trackChildren(): () => number[] {
  const before = new Set(descendantsOf(process.pid));
  return () => descendantsOf(process.pid).filter((pid) => !before.has(pid));
}

/** Pids of processes whose command line mentions `text` (e.g. a test's temporary folder). */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Kills what a test left running in its folder: a dev process killed mid-test leaves its Prosody,
 * which runs in a process group of its own (dev/private-prosody.ts).
 */
export async function killProcessesMentioning(text: string): Promise<void> {
  for (const pid of await processesMentioning(text)) process.kill(pid, 'SIGKILL');
}
