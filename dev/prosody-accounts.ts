import { spawn } from 'node:child_process';
import path from 'node:path';
import { luaString, runAdminCommands, type AdminResult } from './prosody-admin.js';
import { ADMIN_SOCKET, CONFIG_FILE, findProsody } from './prosody-paths.js';

export interface NewAccount {
  username: string;
  password: string;
}

/** Prosody is not running: its admin socket is missing or nobody listens on it. */
const isNotRunning = (err: unknown) => ['ENOENT', 'ECONNREFUSED'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Creates (or resets the password of) accounts of the private Prosody in `dir`: inside the running
 * server when it runs (about 10 ms an account), else with prosodyctl on its files (about 1.3 s an
 * account, since each call starts Lua).
 */
export async function registerAccounts(dir: string, domain: string, accounts: readonly NewAccount[]): Promise<void> {
  const jid = (a: NewAccount) => `${a.username}@${domain}`;
  let created: AdminResult[];
  try {
    created = await runAdminCommands(path.join(dir, ADMIN_SOCKET), accounts.map((a) => `user:create(${luaString(jid(a))}, ${luaString(a.password)})`));
  } catch (err) {
    if (!isNotRunning(err)) throw err;
    for (const account of accounts) await registerOffline(dir, jid(account), account.password);
    return;
  }
  const existing = accounts.filter((_, i) => !created[i]!.ok && created[i]!.text.includes('User exists'));
  const failed = created.findIndex((result) => !result.ok && !result.text.includes('User exists'));
  if (failed >= 0) throw new Error(`Prosody could not create ${jid(accounts[failed]!)}: ${created[failed]!.text}`);
  const reset = await runAdminCommands(path.join(dir, ADMIN_SOCKET), existing.map((a) => `user:password(${luaString(jid(a))}, ${luaString(a.password)})`));
  const refused = reset.findIndex((result) => !result.ok);
  if (refused >= 0) throw new Error(`Prosody could not set the password of ${jid(existing[refused]!)}: ${reset[refused]!.text}`);
}

/**
 * Deletes an account of the private Prosody in `dir`; an account that does not exist is no error.
 * In the running server this also closes the account's sessions (mod_c2s acts on `user-deleted`).
 */
export async function removeAccount(dir: string, username: string, domain: string): Promise<void> {
  const jid = `${username}@${domain}`;
  try {
    const [removed] = await runAdminCommands(path.join(dir, ADMIN_SOCKET), [`user:delete(${luaString(jid)})`]);
    if (!removed!.ok && !removed!.text.includes('No such user')) throw new Error(`Prosody could not delete ${jid}: ${removed!.text}`);
  } catch (err) {
    if (!isNotRunning(err)) throw err;
    const offline = await prosodyctl(dir, ['deluser', jid], '');
    if (offline.code !== 0 && !/does not exist/i.test(offline.output)) throw new Error(`prosodyctl deluser ${jid} failed: ${offline.output.trim()}`);
  }
}

async function registerOffline(dir: string, jid: string, password: string): Promise<void> {
  // The password goes in on stdin: on the command line any local user could read it in /proc.
  const added = await prosodyctl(dir, ['adduser', jid], password);
  if (added.code === 0) return;
  if (!added.output.includes('already exists')) throw new Error(`prosodyctl adduser ${jid} failed: ${added.output.trim()}`);
  const changed = await prosodyctl(dir, ['passwd', jid], password);
  if (changed.code !== 0) throw new Error(`prosodyctl passwd ${jid} failed: ${changed.output.trim()}`);
}

/** Runs prosodyctl against the private config, answering its two password prompts. */
function prosodyctl(dir: string, args: string[], password: string): Promise<{ code: number | null; output: string }> {
  const binary = path.join(path.dirname(findProsody()), 'prosodyctl');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--config', path.join(dir, CONFIG_FILE), ...args], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(`${password}\n${password}\n`);
  });
}
