import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunOutcome, RunRequest } from '../../agent/runner/run-process.js';
import { runProcess } from '../../agent/runner/run-process.js';
import type { ChildStarter } from '../../agent/runner/child-starter.js';
import { Launcher } from '../../agent/runner/launcher.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';
import { fixture } from './paths.js';
import { trackChildren } from './process-tree.js';

/** A service running one of the fixture scripts, with one string output `result` from stdout. */
export function fixtureService(script: string, overrides: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    file: `${script}.properties`,
    id: script,
    keywords: [],
    version: '1.0.0',
    executable: fixture('bin', script),
    customArgs: [],
    argFormat: '--{key}={value}',
    inputs: {},
    outputs: { result: { type: 'string', from: { kind: 'stdout' } } },
    timeoutSeconds: 60,
    env: {},
    ...overrides,
  };
}

/** Temporary directories made by a test; `removeAll` is meant for `afterEach`. */
export class TempDirs {
  private dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'outpost-runner-'));
    this.dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    this.dirs = [];
  }
}

/** Hooks for a runner suite: temp dirs removed after each test, which must leave no child behind. */
export function runnerSandbox(): TempDirs {
  const dirs = new TempDirs();
  let leftBehind: () => number[] = () => [];
  beforeEach(() => {
    leftBehind = trackChildren();
  });
  afterEach(async () => {
    await dirs.removeAll();
    expect(leftBehind(), 'child processes left behind').to.deep.equal([]);
  });
  return dirs;
}

let currentStarter: ChildStarter | undefined;

/**
 * Defines a suite twice: runs started by Node's spawn, then by the prebuilt launcher (which
 * `npm run build` makes; its absence fails the second suite). `runFixture` uses the suite's way.
 */
export function forEachStartPath(define: (path: string) => void): void {
  define('child_process.spawn');
  describe('through the launcher', () => {
    let launcher: Launcher | undefined;
    before(async () => {
      launcher = await Launcher.start();
      if (!launcher) throw new Error('the launcher is not built or does not run here (npm run build)');
      currentStarter = launcher.start;
    });
    after(async () => {
      currentStarter = undefined;
      await launcher?.close();
    });
    define('launcher');
  });
}

export interface Run {
  outcome: RunOutcome;
  progress: Array<{ progress: number; message?: string }>;
}

/** Runs a service in `workDir` and records its progress reports. */
export async function runFixture(
  service: ServiceDefinition,
  workDir: string,
  request: Partial<Omit<RunRequest, 'service' | 'workDir' | 'onProgress'>> = {},
): Promise<Run> {
  const progress: Run['progress'] = [];
  const outcome = await runProcess({
    jobId: 'job-1',
    inputs: {},
    signal: new AbortController().signal,
    ...(currentStarter && { start: currentStarter }),
    ...request,
    service,
    workDir,
    onProgress: (value, message) => progress.push(message === undefined ? { progress: value } : { progress: value, message }),
  });
  return { outcome, progress };
}
