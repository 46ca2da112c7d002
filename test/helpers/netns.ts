import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);
const ip = async (...args: string[]) => (await run('ip', args)).stdout;
const PREFIX = 'outpost-test-';

/**
 * A network namespace joined to this machine by a veth pair: another machine as far as the network
 * goes (its own loopback, no route but the veth), sharing this one's files and /proc.
 */
export interface NetworkNamespace {
  name: string;
  /** This machine's end of the veth, 10.213.N.1: where servers listen for the namespace. */
  hostAddress: string;
  /** The namespace's end of the veth, 10.213.N.2. */
  address: string;
  /** `ip netns exec NAME`, to put before a command line run by a shell; it execs the command, which keeps its pid. */
  execPrefix: string;
  /** Runs `command` inside the namespace to its end. */
  run(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }>;
  /** The processes inside the namespace (as this machine's /proc numbers them). */
  pids(): Promise<number[]>;
  /** Sets the namespace's end of the veth down, as a cut cable (connections stall, none is reset), or up again. */
  setLink(up: boolean): Promise<void>;
  /** Kills what still runs inside, deletes the namespace and the veth pair. Idempotent. */
  remove(): Promise<void>;
}

/** Why this machine cannot make namespaces for the tests, if it cannot. */
async function unavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    await ip('netns', 'list');
  } catch (error) {
    return `\`ip netns\` is unavailable: ${(error as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Process group of a pid, from /proc, or undefined once the process is gone. */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** The command line of a pid as one string (arguments joined by spaces), or '' once it is gone. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function pidsIn(name: string): Promise<number[]> {
  return (await ip('netns', 'pids', name).catch(() => '')).split('\n').filter(Boolean).map(Number);
}

async function removeNamespace(name: string, hostVeth: string | undefined): Promise<void> {
  // `ip netns del` only unmounts the name: the namespace, and the veth with it, lives on while a process is inside.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const pids = await pidsIn(name);
    if (pids.length === 0) break;
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await sleep(20);
  }
  if (hostVeth) await ip('link', 'del', hostVeth).catch(() => undefined);
  await ip('netns', 'del', name).catch(() => undefined);
}

/** Namespaces of test runs that died before their `after` hook (their pid is in the name). */
async function removeLeftovers(): Promise<void> {
  const names = (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0] ?? '');
  for (const name of names) {
    const owner = new RegExp(`^${PREFIX}(\\d+)-\\d+$`).exec(name)?.[1];
    if (owner && Number(owner) !== process.pid && !isAlive(Number(owner))) await removeNamespace(name, undefined);
  }
}

/** Builds the namespace on 10.213.N.0/24; throws (having removed what it made) if N is taken. */
async function build(n: number): Promise<NetworkNamespace> {
  const name = `${PREFIX}${process.pid}-${n}`;
  const hostVeth = `otv${n}h`;
  const namespaceVeth = `otv${n}n`;
  const hostAddress = `10.213.${n}.1`;
  const address = `10.213.${n}.2`;
  await ip('netns', 'add', name);
  try {
    await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', namespaceVeth, 'netns', name);
    await ip('addr', 'add', `${hostAddress}/24`, 'dev', hostVeth);
    await ip('link', 'set', hostVeth, 'up');
    await ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', namespaceVeth);
    await ip('-n', name, 'link', 'set', namespaceVeth, 'up');
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    await removeNamespace(name, hostVeth);
    throw error;
  }
  const execPrefix = `ip netns exec ${name}`;
  return {
    name,
    hostAddress,
    address,
    execPrefix,
    run: (command, args, options = {}) => run('ip', ['netns', 'exec', name, command, ...args], { ...options, maxBuffer: 16 * 1024 * 1024 }),
    pids: () => pidsIn(name),
    setLink: async (up) => void (await ip('-n', name, 'link', 'set', namespaceVeth, up ? 'up' : 'down')),
    remove: () => removeNamespace(name, hostVeth),
  };
}

/**
 * For a `before` hook: a fresh namespace on 10.213.N.0/24, N taken from this process's pid (the
 * next free one if another run holds it), or the suite skipped, saying why, where this machine
 * cannot make one. The suite's `after` calls `remove()`.
 */
export async function networkNamespaceOrSkip(context: Mocha.Context): Promise<NetworkNamespace> {
  const reason = await unavailableReason();
  if (reason) {
    process.stdout.write(`      (skipped: ${reason})\n`);
    context.skip();
  }
  await removeLeftovers();
  const taken = await ip('-4', '-o', 'addr', 'show');
  let lastError: unknown;
  for (let attempt = 0; attempt < 16; attempt += 1) {
    const n = (process.pid + attempt) % 256;
    if (taken.includes(` 10.213.${n}.`)) continue;
    try {
      return await build(n);
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`no free 10.213.N.0/24 for a network namespace: ${(lastError as Error | undefined)?.message ?? 'all taken'}`);
}
