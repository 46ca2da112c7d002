import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { openDataDirDatabase } from '../store/database.js';
import { AuditStore, commandLineAction } from '../store/audit-store.js';
import { UserStore, userNameProblem, type IssuedToken, type Role } from '../store/user-store.js';

/** A new token for the user, who is created with `role` if needed; an existing user must have that role. */
export function issueUserToken(users: UserStore, name: string, role: Role, label: string | null): IssuedToken {
  const problem = userNameProblem(name);
  if (problem) throw new ConfigError(problem);
  const user = users.create(name, role) ?? users.get(name)!;
  // A token command never changes a role: that would hand out admin rights by a typo.
  if (user.role !== role) throw new ConfigError(`user '${name}' already exists with role '${user.role}', not '${role}'`);
  return users.issueToken(name, label);
}

/**
 * `outpost token create --user U [--admin] [--label L] [--data-dir D]`: prints a new bearer
 * token. The database is opened directly (SQLite in WAL mode lets a running server share it);
 * the server looks tokens up on every request, so the token works at once.
 */
export function tokenCommand(argv: string[], env: NodeJS.ProcessEnv): void {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { user: { type: 'string' }, admin: { type: 'boolean' }, label: { type: 'string' }, 'data-dir': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values.user === undefined) throw new ConfigError('--user is required');
  const dataDir = path.resolve(values['data-dir'] ?? env['OUTPOST_DATA_DIR'] ?? './.outpost');
  const db = openDataDirDatabase(dataDir);
  try {
    const role: Role = values.admin ? 'admin' : 'user';
    const issued = issueUserToken(new UserStore(db), values.user, role, values.label ?? null);
    new AuditStore(db).record(commandLineAction('token.create', issued.id, { user: issued.user, label: issued.label }));
    process.stderr.write(`Token ${issued.id} created for user '${issued.user}' (role ${role}); it is shown only now:\n`);
    process.stdout.write(`${issued.token}\n`);
  } finally {
    db.close();
  }
}
