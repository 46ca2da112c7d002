import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { Launcher, PREBUILT_LAUNCHER } from '../../agent/runner/launcher.js';
import { fixture } from '../helpers/paths.js';
import { readPidFile, waitUntilGone } from '../helpers/process-tree.js';
import { fixtureService, runFixture, TempDirs } from '../helpers/runner-fixtures.js';

/** The event types of each chunk the launcher wrote, with when it arrived (agent/launcher/outpost-launcher.c, frames). */
interface Chunk {
  ms: number;
  types: string[];
}

/** Starts `argv` through the launcher binary itself, and returns each read of its stdout until the run's exit. */
async function launcherChunks(cwd: string, argv: string[]): Promise<Chunk[]> {
  const launcher = spawn(PREBUILT_LAUNCHER, [], { stdio: ['pipe', 'pipe', 'inherit'], env: {} });
  try {
    const chunks: Chunk[] = [];
    let sentAt = 0;
    const exited = new Promise<void>((resolve) => {
      launcher.stdout.on('data', (data: Buffer) => {
        const types: string[] = [];
        for (let at = 0; at + 9 <= data.length; at += 9 + data.readUInt32LE(at + 5)) types.push(String.fromCharCode(data[at]!));
        if (types[0] === 'H') return;
        chunks.push({ ms: performance.now() - sentAt, types });
        if (types.includes('X')) resolve();
      });
    });
    const [executable, ...args] = argv;
    const body = Buffer.from(`S${['1', cwd, executable!, String(args.length), ...args, '0'].map((field) => `${field}\0`).join('')}`);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    sentAt = performance.now();
    launcher.stdin.write(Buffer.concat([head, body]));
    await exited;
    return chunks;
  } finally {
    launcher.stdin.end();
    await once(launcher, 'exit');
  }
}

/** One field of a /proc/PID/status text. */
function statusField(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
}

describe('the launcher (posix_spawn helper of the agent)', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.removeAll());

  it('kills every process group it started when its stdin closes, so no run outlives the agent', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    const workDirs = [await dirs.make(), await dirs.make()];
    for (const cwd of workDirs) {
      const started = await launcher.start({ executable: fixture('bin', 'sleep-tree.sh'), args: [], cwd, env: { PATH: '/usr/bin:/bin' } });
      expect(started.ok).to.equal(true);
    }
    const pids = (await Promise.all(workDirs.map((dir) => Promise.all(['parent.pid', 'child.pid'].map((file) => readPidFile(path.join(dir, file))))))).flat();
    await launcher.close();
    for (const pid of pids) expect(await waitUntilGone(pid, 2000), `pid ${pid} still running`).to.equal(true);
  });

  it('ends a run whose kill came while the launcher was starting it', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    try {
      const abort = new AbortController();
      const workDir = await dirs.make();
      const start: typeof launcher.start = async (spec) => {
        const started = await launcher.start(spec);
        abort.abort();
        return started;
      };
      const { outcome } = await runFixture(fixtureService('sleep-tree.sh', { timeoutSeconds: 5 }), workDir, { signal: abort.signal, start, killGraceMs: 100 });
      expect(outcome).to.deep.equal({ status: 'killed', signal: 'SIGTERM' });
    } finally {
      await launcher.close();
    }
  });

  it('starts each run with every signal at its default and none blocked, whatever its own parent left ignored', async () => {
    const dir = await dirs.make();
    // As an agent started under nohup, or by a shell that ignores signals, would pass them on.
    const ignoringParent = path.join(dir, 'launcher-with-signals-ignored');
    await writeFile(ignoringParent, `#!/bin/sh\ntrap '' USR1 ALRM 40\nexec '${PREBUILT_LAUNCHER}'\n`);
    await chmod(ignoringParent, 0o755);
    const launcher = await Launcher.start(ignoringParent);
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    try {
      const started = await launcher.start({ executable: '/bin/cat', args: ['/proc/self/status'], cwd: dir, env: {} });
      if (!started.ok) return expect.fail(`the run did not start: ${started.error.message}`);
      const status = await text(started.child.stdout);
      const signalState = Object.fromEntries(['SigIgn', 'SigBlk', 'SigCgt'].map((name) => [name, statusField(status, name)]));
      expect(signalState).to.deep.equal({ SigIgn: '0000000000000000', SigBlk: '0000000000000000', SigCgt: '0000000000000000' });
      // The launcher itself ignores SIGHUP, SIGINT, SIGQUIT, SIGPIPE and SIGTERM and nothing else.
      const launcherStatus = await readFile(`/proc/${statusField(status, 'PPid')}/status`, 'utf8');
      expect(statusField(launcherStatus, 'SigIgn')).to.equal('0000000000005007');
    } finally {
      await launcher.close();
    }
  });

  it("holds a run's pid and output a few milliseconds for company, and sends its exit at once with what it held", async () => {
    const chunks = await launcherChunks(await dirs.make(), ['/bin/sh', '-c', 'sleep 0.3; echo done']);
    // The pid waits up to LINGER_MS (5) for more; the output waits for the exit just after it.
    expect(chunks.map(({ types }) => types.join(''))).to.deep.equal(['P', 'oOEX']);
    expect(chunks[0]!.ms, 'pid held').to.be.within(4, 250);
  });

  it('reports a missing program as Node does (ENOENT)', async () => {
    const launcher = await Launcher.start();
    if (!launcher) return expect.fail('the launcher is not built (npm run build)');
    try {
      const started = await launcher.start({ executable: '/nonexistent/tool', args: [], cwd: await dirs.make(), env: {} });
      expect(started.ok ? 'started' : started.error.code).to.equal('ENOENT');
    } finally {
      await launcher.close();
    }
  });

  it('is not chosen when it is missing or does not run on this machine', async () => {
    const dir = await dirs.make();
    const foreign = path.join(dir, 'outpost-launcher');
    // Runs, but never says hello, as a file that is not a working launcher.
    await writeFile(foreign, '#!/bin/sh\nexit 0\n');
    await chmod(foreign, 0o755);
    expect(await Launcher.start(path.join(dir, 'missing'))).to.equal(undefined);
    expect(await Launcher.start(foreign)).to.equal(undefined);
  });
});
