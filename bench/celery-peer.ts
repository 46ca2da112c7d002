import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { smallEnv, startProcess } from './child-process.js';
import type { CleanupStack } from './cleanup.js';
import type { BenchParams } from './params.js';
import { peerDir } from './paths.js';
import { CpuMeter, cpuReport, type CpuReport, type CpuUsage } from './process-cpu.js';
import { rabbitMqMissing, startPrivateRabbitMq } from './rabbitmq.js';
import { runToEnd } from './run-to-end.js';

const run = promisify(execFile);
// Debian's interpreter: a python3 found first on PATH (pyenv, venv) may lack Debian's modules.
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT = 'install it with: sudo sh bench/peer/install.sh';

const pythonEnv = (brokerUrl: string) => smallEnv({ BENCH_BROKER_URL: brokerUrl, PYTHONPATH: peerDir, PYTHONDONTWRITEBYTECODE: '1' });

type PhaseFigures = { jobs?: number; finished?: number; elapsedSeconds: number; cpu?: CpuReport } & Record<string, unknown>;

export type PeerReport = { available: false; reason: string } | ({ available: true; workers: number; versions: string } & Record<string, unknown>);

/** Why the peer cannot run here, or undefined when it can. */
async function missing(): Promise<string | undefined> {
  const broker = rabbitMqMissing();
  if (broker) return broker;
  try {
    await run(PYTHON, ['-c', 'import celery'], { timeout: 20_000, env: smallEnv() });
  } catch {
    return `${PYTHON} cannot import celery (Debian package python3-celery)`;
  }
  return undefined;
}

async function versions(): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', 'import celery, kombu; print(f"celery {celery.__version__}, kombu {kombu.__version__}")'], { timeout: 20_000, env: smallEnv() });
  const rabbit = await run('dpkg-query', ['-W', '-f', '${Version}', 'rabbitmq-server'], { timeout: 10_000 }).then(
    ({ stdout: version }) => `rabbitmq-server ${version}`,
    () => 'rabbitmq-server (version unknown)',
  );
  return `${stdout.trim()}, ${rabbit}`;
}

/**
 * Celery 5 + RabbitMQ doing the same job as Outpost's `noop`, driven from Python with the same
 * counts and concurrency: a private broker, a prefork worker pool, an rpc result backend.
 */
export async function celeryPeer(params: BenchParams, stack: CleanupStack): Promise<PeerReport> {
  const reason = await missing();
  if (reason) return { available: false, reason: `${reason}; ${INSTALL_HINT}` };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-peer-'));
  stack.add('peer temp dir', () => rm(dir, { recursive: true, force: true }));
  const broker = await startPrivateRabbitMq(path.join(dir, 'rabbitmq'), stack);

  const worker = startProcess(
    'celery worker',
    PYTHON,
    ['-m', 'celery', '-A', 'tasks', 'worker', '--pool', 'prefork', '--concurrency', String(params.peerWorkers), '--loglevel', 'WARNING', '--without-gossip', '--without-mingle', '--without-heartbeat', '--hostname', `bench-${process.pid}@localhost`],
    { cwd: peerDir, env: { ...pythonEnv(broker.url), HOME: dir }, group: true },
  );
  stack.add('celery worker', () => worker.stop(10_000));

  const driverArgs = [
    ...['--sync-jobs', String(params.syncJobs), '--async-jobs', String(params.asyncJobs)],
    ...['--concurrency', String(params.concurrency), '--warmup', String(params.warmup), '--phase-seconds', String(params.phaseSeconds)],
  ];
  const cpuParts: Record<string, number[]> = { rabbitmq: broker.pids, celeryWorker: [worker.child.pid ?? 0] };
  let cpu: CpuMeter | undefined;
  const cpuUsed = new Map<string, CpuUsage>();
  const onStderrLine = (line: string) => {
    const [marker, phase, edge] = line.split(' ');
    if (marker !== 'BENCH-PHASE' || !phase) return;
    if (edge === 'begin') cpu?.start();
    else if (cpu) cpuUsed.set(phase, cpu.stop());
  };
  let stdout: string;
  try {
    stdout = await runToEnd(PYTHON, [path.join(peerDir, 'driver.py'), ...driverArgs], {
      cwd: peerDir,
      env: pythonEnv(broker.url),
      // the worker's start, a warm-up and two phases, each bounded
      timeoutMs: (3 * params.phaseSeconds + 90) * 1000,
      onStart: (pid) => (cpu = new CpuMeter({ ...cpuParts, driver: [pid] })),
      onStderrLine,
    });
  } catch (error) {
    throw new Error(`Celery driver failed: ${(error as Error).message}\nworker said: ${worker.output()}`);
  }
  const report = JSON.parse(stdout) as Record<'sync' | 'async', PhaseFigures>;
  for (const [phase, figures] of Object.entries(report)) {
    const used = cpuUsed.get(phase);
    const jobs = figures.jobs ?? figures.finished ?? 0;
    if (used) figures.cpu = cpuReport(used, jobs, figures.elapsedSeconds * 1000);
  }
  return { available: true, workers: params.peerWorkers, versions: await versions(), ...report };
}
