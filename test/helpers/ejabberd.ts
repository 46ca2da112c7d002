import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ejabberdMissing, PrivateEjabberd } from '../../dev/private-ejabberd.js';
import type { TlsFiles } from '../../dev/tls-certificate.js';
import { testLogger } from './logger.js';
import { TEST_DOMAIN, type TestXmppServer } from './prosody.js';

export interface TestEjabberd extends TestXmppServer {
  ejabberd: PrivateEjabberd;
}

/** A private ejabberd in a temp folder, for one test file: on loopback, without TLS unless given a certificate. */
export async function startTestEjabberd(options: { tls?: TlsFiles } = {}): Promise<TestEjabberd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-ejabberd-'));
  const ejabberd = new PrivateEjabberd({ dir, domain: TEST_DOMAIN, logger: testLogger, ...(options.tls ? { tls: options.tls } : {}) });
  try {
    await ejabberd.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ejabberd,
    fabric: ejabberd,
    async addAccount(name) {
      const password = randomBytes(12).toString('base64url');
      await ejabberd.registerAccount(name, password);
      return { jid: `${name}@${ejabberd.domain}`, password };
    },
    async stop() {
      await ejabberd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** For a suite's `before`: without Debian's ejabberd, the suite says why and is skipped, never passed. */
export function skipWithoutEjabberd(suite: Mocha.Context): void {
  const missing = ejabberdMissing();
  if (missing === undefined) return;
  console.warn(`    ejabberd tests skipped: ${missing}`);
  suite.skip();
}
