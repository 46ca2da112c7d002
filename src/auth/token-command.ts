import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, databaseUrl } from '../config.js';
import { commandLineAction } from '../store/audit-store.js';
import { openCommandRecords } from '../store/open-stores.js';
import { userNameProblem, type IssuedToken, type Role, type UserStoreApi } from '../store/user-store.js';

/** A new token for the user, who is created with `role` if needed; an existing user must have that role. */
export async function issueUserToken(users: UserStoreApi, name: string, role: Role, label: string | null): Promise<IssuedToken> {
  const problem = userNameProblem(name);
  if (problem) throw new ConfigError(problem);
  const user = (await users.create(name, role)) ?? users.get(name)!;
  // A token command never changes a role: that would hand out admin rights by a typo.
  if (user.role !== role) throw new ConfigError(`user '${name}' already exists with role '${user.role}', not '${role}'`);
  return users.issueToken(name, label);
}

/** The `--database` given, else OUTPOST_DATABASE: the PostgreSQL a command changes instead of the data directory's SQLite. */
export function commandDatabase(given: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const url = given ?? env['OUTPOST_DATABASE'];
  return url === undefined || url === '' ? undefined : databaseUrl(url);
}

/**
 * `outpost token create --user U [--admin] [--label L] [--data-dir D | --database URL]`: prints a
 * new bearer token. The database is opened directly (SQLite in WAL mode lets a running server
 * share it; on PostgreSQL every orchestrator hears of the change), so the token works at once.
 */
export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { user: { type: 'string' }, admin: { type: 'boolean' }, label: { type: 'string' }, 'data-dir': { type: 'string' }, database: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values.user === undefined) throw new ConfigError('--user is required');
  const dataDir = path.resolve(values['data-dir'] ?? env['OUTPOST_DATA_DIR'] ?? './.outpost');
  const records = await openCommandRecords(dataDir, commandDatabase(values.database, env));
  try {
    const role: Role = values.admin ? 'admin' : 'user';
    const issued = await issueUserToken(records.users, values.user, role, values.label ?? null);
    await records.audit.record(commandLineAction('token.create', issued.id, { user: issued.user, label: issued.label }));
    process.stderr.write(`Token ${issued.id} created for user '${issued.user}' (role ${role}); it is shown only now:\n`);
    process.stdout.write(`${issued.token}\n`);
  } finally {
    await records.close();
  }
}
