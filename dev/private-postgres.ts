import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** A PostgreSQL cluster of Outpost's own in a temporary directory, never the system service. */
export interface PrivatePostgres {
  /** Its data directory's parent: its processes carry it on their command line. */
  dir: string;
  /** A new empty database on the cluster, by URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's binaries of the newest installed major version, or why PostgreSQL cannot run here. */
function postgresBin(): string | { reason: string } {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) return { reason: `PostgreSQL is not installed (no ${root}/*/bin/initdb); run postgres/ensure-postgresql.sh` };
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/**
 * `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user and
 * every command runs through `runuser`. It listens on loopback on a free port and keeps its socket
 * in its own directory; fsync is off, as nothing in it outlives its user (tests, benchmarks).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres | { reason: string }> {
  const bin = postgresBin();
  if (typeof bin !== 'string') return bin;
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-postgres-'));
  const data = path.join(dir, 'data');
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]) : run(path.join(bin, command), args);
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    await chown(dir, uid, uid);
  }
  const port = await freePort('127.0.0.1');
  await as('initdb', ['-D', data, '-U', 'outpost', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -F -c full_page_writes=off -c synchronous_commit=off`;
  await as('pg_ctl', ['-D', data, '-l', path.join(dir, 'postgres.log'), '-o', options, '-w', 'start']);
  const base = `postgres://outpost@127.0.0.1:${port}`;
  let databases = 0;
  return {
    dir,
    async createDatabase() {
      const name = `outpost_${(databases += 1)}`;
      const client = new pg.Client(`${base}/postgres`);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async stop() {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
