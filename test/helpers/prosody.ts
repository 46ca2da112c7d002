import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PrivateProsody } from '../../dev/private-prosody.js';
import type { TlsFiles } from '../../dev/tls-certificate.js';
import { testLogger } from './logger.js';

/** The XMPP server's addresses that an orchestrator and agents need, whichever server it is. */
export interface XmppFabric {
  readonly domain: string;
  readonly clientService: string;
  readonly componentService: string;
  readonly componentDomain: string;
  readonly componentSecret: string;
}

/** A private XMPP server started for one test file. */
export interface TestXmppServer {
  fabric: XmppFabric;
  /** Registers a fresh agent account and returns its credentials. */
  addAccount(name: string): Promise<{ jid: string; password: string }>;
  stop(): Promise<void>;
}

export interface TestProsody extends TestXmppServer {
  prosody: PrivateProsody;
}

/** `addAccount` of a test server: a fresh random password for each account registered on `server`. */
export function accountMaker(server: { domain: string; registerAccount(username: string, password: string): Promise<void> }): TestXmppServer['addAccount'] {
  return async (name) => {
    const password = randomBytes(12).toString('base64url');
    await server.registerAccount(name, password);
    return { jid: `${name}@${server.domain}`, password };
  };
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
    fabric: prosody,
    addAccount: accountMaker(prosody),
    async stop() {
      await prosody.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
