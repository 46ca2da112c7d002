import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

export interface VanishedHost {
  /** `xmpp://127.0.0.1:PORT`, where a connection attempt gets no answer at all. */
  service: string;
  close(): Promise<void>;
}

/**
 * A loopback port whose TCP handshakes never complete, as a machine that is gone looks to a
 * client: a listener (Python's, as Node's accepts everything) that accepts nothing and whose
 * backlog one connection fills, so that the kernel drops the SYNs that follow.
 */
export async function startVanishedHost(): Promise<VanishedHost> {
  const listener = 'import socket, sys\ns = socket.socket()\ns.bind(("127.0.0.1", 0))\ns.listen(0)\nprint(s.getsockname()[1], flush=True)\nsys.stdin.read()';
  // It ends when its stdin closes, with the test process at the latest.
  const child = spawn('python3', ['-c', listener], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [printed] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(printed.toString().trim());
  const filler = net.connect(port, '127.0.0.1');
  await once(filler, 'connect');
  return {
    service: `xmpp://127.0.0.1:${port}`,
    async close() {
      filler.destroy();
      child.stdin!.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
