import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PrivateProsody } from '../../dev/private-prosody.js';
import { testLogger } from './logger.js';

export interface TestProsody {
  prosody: PrivateProsody;
  /** Registers a fresh agent account and returns its credentials. */
  addAccount(name: string): Promise<{ jid: string; password: string }>;
  stop(): Promise<void>;
}

/** A private Prosody in a temp folder, for one test file. */
export async function startTestProsody(): Promise<TestProsody> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-prosody-'));
  const prosody = new PrivateProsody({ dir, host: '127.0.0.1', domain: 'outpost.test', logger: testLogger });
  await prosody.start();
  return {
    prosody,
    async addAccount(name) {
      const password = randomBytes(12).toString('base64url');
      await prosody.registerAccount(name, password);
      return { jid: `${name}@${prosody.domain}`, password };
    },
    async stop() {
      await prosody.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
