import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ejabberdMissing, PrivateEjabberd, startEpmd } from '../../dev/private-ejabberd.js';
import { freePort } from '../../dev/free-port.js';
import type { TlsFiles } from '../../dev/tls-certificate.js';
import { testLogger } from './logger.js';
import { accountMaker, TEST_DOMAIN, type TestXmppServer } from './prosody.js';

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
    addAccount: accountMaker(ejabberd),
    async stop() {
      await ejabberd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestEjabberdCluster {
  /** The node the second one joined, and the second one. */
  nodes: [PrivateEjabberd, PrivateEjabberd];
  /** How long both nodes took to boot side by side, and the join. */
  bootMs: number;
  joinMs: number;
  /** Registers a fresh account (on the first node; the cluster shares it) and returns its credentials. */
  addAccount(name: string): Promise<{ jid: string; password: string }>;
  stop(): Promise<void>;
}

/** Two private ejabberd nodes on this machine, joined in one cluster, with their own epmd and cookie. */
export async function startTestEjabberdCluster(): Promise<TestEjabberdCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-ejabberd-cluster-'));
  const epmdPort = await freePort('127.0.0.1');
  const epmd = await startEpmd(epmdPort);
  const cookie = randomBytes(16).toString('hex');
  const componentSecret = randomBytes(24).toString('base64url');
  const node = (name: string) =>
    new PrivateEjabberd({ dir: path.join(dir, name), domain: TEST_DOMAIN, logger: testLogger, componentSecret, node: { name: `${name}-${cookie.slice(0, 6)}`, cookie, epmdPort } });
  const nodes: [PrivateEjabberd, PrivateEjabberd] = [node('first'), node('second')];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await epmd.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const booting = Date.now();
    await Promise.all(nodes.map((n) => n.start()));
    const bootMs = Date.now() - booting;
    const joining = Date.now();
    await nodes[1].joinCluster(nodes[0].nodeName!);
    const joinMs = Date.now() - joining;
    return {
      nodes,
      bootMs,
      joinMs,
      addAccount: accountMaker(nodes[0]),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** For a suite's `before`: without Debian's ejabberd, the suite says why and is skipped, never passed. */
export function skipWithoutEjabberd(suite: Mocha.Context): void {
  const missing = ejabberdMissing();
  if (missing === undefined) return;
  console.warn(`    ejabberd tests skipped: ${missing}`);
  suite.skip();
}
