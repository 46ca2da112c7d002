import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForPort } from '../dev/free-port.js';
import { smallEnv, startProcess } from './child-process.js';
import type { CleanupStack } from './cleanup.js';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const EPMD = '/usr/bin/epmd';
const HOST = '127.0.0.1';

/**
 * A RabbitMQ of the bench's own in `dir`: loopback ports, its own node name, Erlang cookie (HOME),
 * data and logs, no plugins, and an epmd on a port of its own that the bench starts (left to
 * itself, Erlang would daemonize one that outlives the broker). Debian's /usr/sbin wrapper is
 * avoided because, run as root, it switches to the system user and drops these settings.
 */
export async function startPrivateRabbitMq(dir: string, stack: CleanupStack): Promise<{ url: string; pids: number[] }> {
  for (const sub of ['home', 'mnesia', 'log']) await mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
  const [amqp, distribution, epmdPort] = [await freePort(HOST), await freePort(HOST), await freePort(HOST)];
  await writeFile(
    path.join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = ${HOST}:${amqp}`,
      `distribution.listener.interface = ${HOST}`,
      'log.console = false',
      'log.file.level = warning',
      'disk_free_limit.absolute = 10MB',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(path.join(dir, 'rabbitmq-env.conf'), '');

  const erlangEnv = { ERL_EPMD_PORT: String(epmdPort), ERL_EPMD_ADDRESS: HOST };
  const epmd = startProcess('epmd', EPMD, ['-port', String(epmdPort), '-address', HOST], { env: smallEnv(erlangEnv), group: true });
  stack.add('epmd', () => epmd.stop(1000));
  await waitForPort(HOST, epmdPort, 5000, () => !epmd.isRunning());

  const broker = startProcess('rabbitmq', RABBITMQ_SERVER, [], {
    cwd: dir,
    group: true,
    env: smallEnv({
      ...erlangEnv,
      HOME: path.join(dir, 'home'),
      RABBITMQ_NODENAME: `outpostbench${amqp}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: HOST,
      RABBITMQ_NODE_PORT: String(amqp),
      RABBITMQ_DIST_PORT: String(distribution),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    }),
  });
  stack.add('rabbitmq', () => broker.stop(10_000));
  try {
    // The AMQP listener opens only once the broker has booted.
    await waitForPort(HOST, amqp, 60_000, () => !broker.isRunning());
  } catch (error) {
    throw new Error(`RabbitMQ did not start: ${(error as Error).message}\n${broker.output()}`);
  }
  return { url: `amqp://guest:guest@${HOST}:${amqp}//`, pids: [broker.child.pid ?? 0, epmd.child.pid ?? 0] };
}

export function rabbitMqMissing(): string | undefined {
  if (!existsSync(RABBITMQ_SERVER)) return `${RABBITMQ_SERVER} not found (Debian package rabbitmq-server)`;
  if (!existsSync(EPMD)) return `${EPMD} not found (Debian package erlang-base)`;
  return undefined;
}
