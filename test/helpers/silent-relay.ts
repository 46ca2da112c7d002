import { once } from 'node:events';
import net from 'node:net';

export interface SilentRelay {
  /** `xmpp://127.0.0.1:PORT`, to give an agent instead of the server's own address. */
  service: string;
  /** From now on nothing passes either way and nothing is closed: a hung node, or a cut network, as TCP sees it. */
  silence(): void;
  close(): Promise<void>;
}

/** A TCP relay on loopback to `host:port` that can fall silent while its connections stay open. */
export async function startSilentRelay(host: string, port: number): Promise<SilentRelay> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const keep = (socket: net.Socket, peer: () => net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      if (!silent) peer().destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!silent) peer().write(chunk);
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    keep(client, () => upstream);
    keep(upstream, () => client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    service: `xmpp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    silence: () => void (silent = true),
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
