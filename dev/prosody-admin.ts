import net from 'node:net';
import { Parser, escapeXMLText, type Element } from '@xmpp/xml';

/** One answer of Prosody's admin shell: `ok` false when the command returned an error. */
export interface AdminResult {
  ok: boolean;
  text: string;
}

/**
 * Commands written ahead of their answers. Prosody's time per command grows with the input it has
 * buffered, so thousands written at once take minutes (measured: 1,000 accounts in 240 s at once,
 * 13 s a hundred at a time).
 */
const IN_FLIGHT = 50;

const OPEN = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='xmpp:prosody.im/admin'>";

/**
 * Runs admin shell commands (mod_admin_shell, as `prosodyctl shell` does) inside the running
 * Prosody, over one connection to its admin socket, in order. Accounts made this way cost no Lua
 * start-up per account, and a deleted account's sessions are closed by the server itself
 * (mod_c2s acts on `user-deleted`), which `prosodyctl deluser` does not do.
 * Rejects when the socket cannot be reached (Prosody is not running).
 */
export function runAdminCommands(socketPath: string, commands: readonly string[], timeoutMs = 30_000): Promise<AdminResult[]> {
  return new Promise((resolve, reject) => {
    const results: AdminResult[] = [];
    const socket = net.connect(socketPath);
    const parser = new Parser();
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(results);
    };
    // A bound on the silence between answers, not on the whole batch, which grows with its size.
    const silent = () => finish(new Error(`Prosody's admin socket gave ${results.length} of ${commands.length} answers, then none for ${timeoutMs} ms`));
    let timer = setTimeout(silent, timeoutMs);
    parser.on('element', (element: Element) => {
      if (element.name !== 'repl-result') return;
      results.push({ ok: element.attrs['type'] !== 'error', text: element.getText() });
      clearTimeout(timer);
      timer = setTimeout(silent, timeoutMs);
      if (results.length === commands.length) finish();
      else sendUpTo(results.length + IN_FLIGHT);
    });
    parser.on('error', (err: Error) => finish(err));
    socket.on('data', (chunk) => parser.write(chunk.toString('utf8')));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`Prosody closed its admin socket after ${results.length} of ${commands.length} answers`)));
    let sent = 0;
    const sendUpTo = (end: number) => {
      const next = commands.slice(sent, end);
      sent += next.length;
      if (next.length > 0) socket.write(next.map((command) => `<repl-input>${escapeXMLText(command)}</repl-input>`).join(''));
    };
    socket.on('connect', () => {
      if (commands.length === 0) return finish();
      socket.write(OPEN);
      sendUpTo(IN_FLIGHT);
    });
  });
}

/** A Lua string literal; only used with JIDs and generated passwords, but quoted fully anyway. */
export function luaString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/[\0-\x1f\x7f]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`)}"`;
}
