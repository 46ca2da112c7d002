import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, constants as fsConstants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { signalGroup } from './process-group.js';
import { spawnChild, type ChildSpec, type ChildStarter, type StartedChild, type StartResult } from './child-starter.js';

/**
 * The launcher that ships prebuilt for this platform (built from agent/launcher/*.c
 * by `npm run build`) in this module's own package: in dist/prebuilt/ under the compiled tree, next
 * to the bundle in the installed agent package. Looked for from this module's folder up to the
 * package root (the first folder with a package.json) and never beyond; absent elsewhere.
 */
function prebuiltLauncher(): string {
  const relative = path.join('prebuilt', `${process.platform}-${process.arch}`, 'outpost-launcher');
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate) || existsSync(path.join(dir, 'package.json')) || path.dirname(dir) === dir) return candidate;
  }
}
export const PREBUILT_LAUNCHER = prebuiltLauncher();

/** How long a starting launcher may take to say hello before Node's spawn is used instead. */
const HELLO_TIMEOUT_MS = 2000;
const HEADER_BYTES = 9;

const signalNames = new Map(Object.entries(os.constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));
const errnoNames = new Map(Object.entries(os.constants.errno).map(([name, number]) => [number, name]));

interface LaunchedRun {
  spec: ChildSpec;
  started?: (result: StartResult) => void;
  pid?: number;
  stdout: Readable;
  stderr: Readable;
  exitListeners: Array<(code: number | null, signal: NodeJS.Signals | null) => void>;
  /** Kept for a listener that comes later: the exit may arrive in the same read as the start. */
  exit?: [code: number | null, signal: NodeJS.Signals | null];
  open: number;
}

/**
 * A long-lived helper process that starts runs with posix_spawn (docs/decisions.md,
 * Performance): Node 20 forks the whole agent for each `child_process.spawn`, which costs far more
 * than the run itself for short jobs. Runs' output comes back framed over the helper's stdout;
 * closing its stdin makes it kill every group it started.
 */
export class Launcher {
  readonly #process: ChildProcess;
  readonly #runs = new Map<number, LaunchedRun>();
  #nextId = 1;
  #pending = Buffer.alloc(0);
  #alive = true;

  private constructor(child: ChildProcess) {
    this.#process = child;
  }

  /** Starts the launcher at `file`; undefined when it is missing or does not run here. */
  static async start(file = PREBUILT_LAUNCHER): Promise<Launcher | undefined> {
    if (!(await access(file, fsConstants.X_OK).then(() => true, () => false))) return undefined;
    const child = spawn(file, [], { stdio: ['pipe', 'pipe', 'inherit'], env: {} });
    const launcher = new Launcher(child);
    const hello = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), HELLO_TIMEOUT_MS);
      child.once('error', () => resolve(false));
      child.once('exit', () => resolve(false));
      child.stdout!.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        resolve(chunk[0] === 'H'.charCodeAt(0));
        launcher.#receive(chunk.subarray(HEADER_BYTES));
        child.stdout!.on('data', (more: Buffer) => launcher.#receive(more));
      });
    });
    if (!hello) {
      child.kill('SIGKILL');
      return undefined;
    }
    child.once('exit', () => launcher.#lost());
    child.stdin!.on('error', () => launcher.#lost());
    return launcher;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Starts a run; one that needs stdin goes through Node's spawn, which the launcher does not offer. */
  readonly start: ChildStarter = (spec) => {
    const id = this.#nextId;
    const fields = [String(id), spec.cwd, spec.executable, String(spec.args.length), ...spec.args, ...envCount(spec.env)];
    // A NUL byte cannot pass exec; Node's spawn refuses it with its own clear error.
    if (!this.#alive || spec.stdin !== undefined || fields.some((field) => field.includes('\0'))) return spawnChild(spec);
    this.#nextId++;
    return new Promise((resolve) => {
      this.#runs.set(id, { spec, started: resolve, stdout: this.#stream(id), stderr: this.#stream(id), exitListeners: [], open: 2 });
      this.#request(`S${fields.map((field) => `${field}\0`).join('')}`);
    });
  };

  /** Closes the launcher's stdin: it kills every process group it started and exits. */
  async close(): Promise<void> {
    if (!this.#alive) return;
    const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()));
    this.#process.stdin!.end();
    await exited;
  }

  #stream(id: number): Readable {
    let ended = false;
    const stream = new Readable({
      read() {},
      // The supervisor gave up waiting for EOF (a grandchild holds the pipe): the launcher closes it.
      destroy: (error, callback) => {
        if (!ended && this.#alive) this.#request(`D${id}\0`);
        callback(error);
      },
    });
    stream.once('end', () => (ended = true));
    return stream;
  }

  #request(body: string): void {
    const bytes = Buffer.from(body);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(bytes.length);
    this.#process.stdin!.write(Buffer.concat([head, bytes]));
  }

  #receive(chunk: Buffer): void {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (data.length >= HEADER_BYTES) {
      const size = data.readUInt32LE(5);
      if (data.length < HEADER_BYTES + size) break;
      this.#event(String.fromCharCode(data[0]!), data.readUInt32LE(1), data.subarray(HEADER_BYTES, HEADER_BYTES + size));
      data = data.subarray(HEADER_BYTES + size);
    }
    this.#pending = Buffer.from(data);
  }

  #event(type: string, id: number, payload: Buffer): void {
    const run = this.#runs.get(id);
    if (!run) return;
    switch (type) {
      case 'P':
        run.pid = payload.readUInt32LE(0);
        return void run.started?.({ ok: true, child: this.#child(run, run.pid) });
      case 'F':
        this.#runs.delete(id);
        return void run.started?.({ ok: false, error: spawnError(run.spec.executable, payload.readUInt32LE(0)) });
      case 'o':
        return void run.stdout.push(Buffer.from(payload));
      case 'e':
        return void run.stderr.push(Buffer.from(payload));
      case 'O':
      case 'E':
        (type === 'O' ? run.stdout : run.stderr).push(null);
        run.open--;
        break;
      case 'X': {
        const killed = payload[0] === 1;
        this.#exited(run, killed ? null : payload[1]!, killed ? signalNames.get(payload[1]!) ?? 'SIGKILL' : null);
      }
    }
    if (run.exit && run.open === 0) this.#runs.delete(id);
  }

  #exited(run: LaunchedRun, code: number | null, signal: NodeJS.Signals | null): void {
    run.exit = [code, signal];
    for (const listener of run.exitListeners) listener(code, signal);
  }

  #child(run: LaunchedRun, pid: number): StartedChild {
    const onExit: StartedChild['onExit'] = (listener) => {
      if (run.exit) listener(...run.exit);
      else run.exitListeners.push(listener);
    };
    return { pid, stdout: run.stdout, stderr: run.stderr, stdin: null, groupEndsWithLeader: true, onExit };
  }

  /** The launcher died: its runs' groups are ended from here, and later runs use Node's spawn. */
  #lost(): void {
    if (!this.#alive) return;
    this.#alive = false;
    for (const run of this.#runs.values()) {
      if (run.pid === undefined) {
        run.started?.({ ok: false, error: Object.assign(new Error('the launcher stopped'), { code: 'EPIPE' }) });
        continue;
      }
      signalGroup(run.pid, 'SIGKILL');
      run.stdout.push(null);
      run.stderr.push(null);
      if (!run.exit) this.#exited(run, null, 'SIGKILL');
    }
    this.#runs.clear();
  }
}

function envCount(env: Record<string, string>): string[] {
  const entries = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  return [String(entries.length), ...entries];
}

/** The same error Node's spawn gives, so failures read alike on both paths. */
function spawnError(executable: string, errno: number): NodeJS.ErrnoException {
  const code = errnoNames.get(errno) ?? 'EIO';
  return Object.assign(new Error(`spawn ${executable} ${code}`), { code, errno: -errno, syscall: `spawn ${executable}`, path: executable });
}
