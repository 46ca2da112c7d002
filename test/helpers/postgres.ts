import { startPrivatePostgres, type PrivatePostgres } from '../../dev/private-postgres.js';

/** A PostgreSQL cluster of its own in a temporary directory, for one test file; never the system service. */
export type TestPostgres = PrivatePostgres;

export const startTestPostgres = startPrivatePostgres;

/** The cluster, or the calling test file (or suite) skipped with the reason printed. */
export function postgresOrSkip(context: Mocha.Context, started: TestPostgres | { reason: string }): TestPostgres {
  if ('reason' in started) {
    console.log(`      skipped: ${started.reason}`);
    context.skip();
  }
  return started as TestPostgres;
}
