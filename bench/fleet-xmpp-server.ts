import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { PrivateEjabberd } from '../dev/private-ejabberd.js';
import { PrivateProsody } from '../dev/private-prosody.js';
import { registerAccounts, type NewAccount } from '../dev/prosody-accounts.js';
import type { CleanupStack } from './cleanup.js';
import type { XmppServerName } from './fleet-params.js';
import { childPidsMatching } from './process-cpu.js';

/** The private XMPP server a fleet bench runs against, whichever it is. */
export interface FleetXmppServer {
  name: XmppServerName;
  /** What it is and how it is set up, for the report. */
  setup: string;
  host: string;
  c2sPort: number;
  componentService: string;
  componentDomain: string;
  componentSecret: string;
  /** Creates the fleet's accounts in the running server, the fastest way it offers. */
  registerAccounts(accounts: readonly NewAccount[]): Promise<void>;
  /** Its processes, whose CPU and memory are reported as the `xmpp` part. */
  pids(): number[];
}

const logger = () => pino({ level: 'warn' }, pino.destination(2));

/** The installed package's version, as dpkg knows it ('' when it does not). */
function debianVersion(name: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

/** Starts the private server `name` in `dir`, stopped through `stack`. */
export async function startFleetXmppServer(name: XmppServerName, dir: string, domain: string, stack: CleanupStack): Promise<FleetXmppServer> {
  const pids = () => childPidsMatching(dir);
  if (name === 'prosody') {
    const prosody = new PrivateProsody({ dir, host: '127.0.0.1', domain, logger: logger() });
    stack.add('prosody', () => prosody.stop());
    await prosody.start();
    return {
      name,
      setup: `private Prosody ${debianVersion('prosody')} (prosody/prosody.cfg.lua.template) on loopback, no TLS; accounts through its admin socket`,
      host: prosody.host,
      c2sPort: prosody.c2sPort,
      componentService: prosody.componentService,
      componentDomain: prosody.componentDomain,
      componentSecret: prosody.componentSecret,
      registerAccounts: (accounts) => registerAccounts(dir, domain, accounts),
      pids,
    };
  }
  const ejabberd = new PrivateEjabberd({ dir, domain, logger: logger() });
  stack.add('ejabberd', () => ejabberd.stop());
  await ejabberd.start();
  return {
    name,
    setup: `private ejabberd ${debianVersion('ejabberd')} (ejabberd/ejabberd.yml.template, dev/private-ejabberd.ts) on loopback, no TLS; accounts imported as one XEP-0227 file over its HTTP API`,
    host: ejabberd.host,
    c2sPort: ejabberd.c2sPort,
    componentService: ejabberd.componentService,
    componentDomain: ejabberd.componentDomain,
    componentSecret: ejabberd.componentSecret,
    registerAccounts: (accounts) => ejabberd.importAccounts(accounts),
    pids,
  };
}
