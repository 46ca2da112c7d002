import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'dot-properties';
import { readServiceFile, type ParsedServiceFile } from '../../agent/services/properties-file.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';

/** Gives each test of the enclosing suite a fresh temporary folder, removed after the test. */
export function useTempDir(): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Writes a small `/bin/sh` script with execute permission; returns its absolute path. */
export async function writeScript(dir: string, name: string, body = 'exit 0'): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** Writes a properties file, escaping keys and values the way the format requires. */
export async function writeProperties(dir: string, file: string, properties: Record<string, string>): Promise<void> {
  await fs.writeFile(path.join(dir, file), stringify(properties, { lineWidth: null }));
}

/** The message of the error `action` throws, to compare with texts that embed it. */
export function errorMessage(action: () => unknown): string {
  try {
    action();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the action to throw');
}

/** The file `useServiceFileReader` writes. */
export const SERVICE_FILE = 'svc.properties';

/**
 * Per test, a temporary folder with an executable `tool.sh`, and readers of a service file
 * `svc.properties` with `service = svc` and that executable plus the given keys.
 */
export function useServiceFileReader() {
  const tempDir = useTempDir();
  let tool = '';
  beforeEach(async () => {
    tool = await writeScript(tempDir(), 'tool.sh');
  });
  const reader = {
    dir: () => tempDir(),
    tool: () => tool,
    async read(properties: Record<string, string>): Promise<ParsedServiceFile> {
      await writeProperties(tempDir(), SERVICE_FILE, { service: 'svc', executable: tool, ...properties });
      return readServiceFile(tempDir(), SERVICE_FILE);
    },
    async readValid(properties: Record<string, string>): Promise<ServiceDefinition> {
      const result = await reader.read(properties);
      if (result.status !== 'valid') expect.fail(`expected a valid file, got ${JSON.stringify(result)}`);
      return result.service;
    },
    async rejects(properties: Record<string, string>, reason: string): Promise<void> {
      expect(await reader.read(properties)).to.deep.equal({ status: 'invalid', invalid: { file: SERVICE_FILE, reason } });
    },
  };
  return reader;
}

/** `read` expecting a valid file (its result) or a refused one (its reason); anything else fails. */
export function expectingResult<A>(read: (arg: A) => Promise<ParsedServiceFile>) {
  return {
    async valid(arg: A): Promise<Extract<ParsedServiceFile, { status: 'valid' }>> {
      const result = await read(arg);
      if (result.status !== 'valid') throw new Error(`expected a valid file, got ${JSON.stringify(result)}`);
      return result;
    },
    async reason(arg: A): Promise<string> {
      const result = await read(arg);
      if (result.status !== 'invalid') throw new Error(`expected a refused file, got ${JSON.stringify(result)}`);
      return result.invalid.reason;
    },
  };
}
