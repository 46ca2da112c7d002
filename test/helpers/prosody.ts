import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PrivateProsody } from '../../dev/private-prosody.js';
import type { TlsFiles } from '../../dev/tls-certificate.js';
import { testLogger } from './logger.js';

export interface TestProsody {
  prosody: PrivateProsody;
  /** Registers a fresh agent account and returns its credentials. */
  addAccount(name: string): Promise<{ jid: string; password: string }>;
  stop(): Promise<void>;
}

/** The test servers' XMPP domain. */
export const TEST_DOMAIN = 'outpost.test';

/** A private Prosody in a temp folder, for one test file: on loopback without TLS unless told otherwise. */
export async function startTestProsody(options: { host?: string; tls?: TlsFiles } = {}): Promise<TestProsody> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-prosody-'));
  const prosody = new PrivateProsody({ dir, host: options.host ?? '127.0.0.1', domain: TEST_DOMAIN, logger: testLogger, ...(options.tls ? { tls: options.tls } : {}) });
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
