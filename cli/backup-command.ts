import path from 'node:path';
import { parseArgs } from 'node:util';
import { commandDatabase } from '../src/auth/token-command.js';
import { ConfigError } from '../src/config.js';
import { redactedUrl } from '../src/store/postgres/postgres-pool.js';
import { BackupError, backupDatabase } from '../src/store/backup.js';

/**
 * `outpost backup FILE`: a consistent copy of the database of a data directory, whose server may
 * be running (README, Backup and restore). Result files are not in it, nor, with --database,
 * what PostgreSQL keeps: pg_dump backs that up (docs/deploy.md).
 */
export async function backupCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { force: { type: 'boolean' }, 'data-dir': { type: 'string' }, database: { type: 'string' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) throw new ConfigError(file === undefined ? 'backup needs a FILE to write' : `unexpected argument '${extra[0]}'`);
  const dataDir = path.resolve(parsed.values['data-dir'] ?? env['OUTPOST_DATA_DIR'] ?? './.outpost');
  const target = path.resolve(file);
  const database = commandDatabase(parsed.values.database, env);
  try {
    const { bytes, jobs } = await backupDatabase(path.join(dataDir, 'outpost.db'), target, parsed.values.force === true);
    process.stdout.write(`Backed up ${dataDir}/outpost.db to ${target} (${bytes} bytes, ${jobs} jobs, integrity ok). Result files in ${dataDir}/results are not in it.\n`);
    if (database !== undefined) {
      process.stdout.write(`Jobs, users, tokens, agent accounts, the audit log and callbacks are in ${redactedUrl(database)}, not in this file: back them up with pg_dump (docs/deploy.md).\n`);
    }
  } catch (err) {
    if (err instanceof BackupError) throw new ConfigError(err.message);
    throw err;
  }
}
