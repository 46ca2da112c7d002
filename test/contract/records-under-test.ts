import { openDatabase } from '../../src/store/database.js';
import { postgresRecords, sqliteRecords, type Records } from '../../src/store/open-stores.js';
import { openPostgres, type Pool } from '../../src/store/postgres/postgres-pool.js';
import { postgresOrSkip, type TestPostgres } from '../helpers/postgres.js';
import { openTempDatabase } from '../helpers/temp-database.js';
import { sharedPostgres } from './stores-under-test.js';

/** Every record but jobs on a fresh database, as one orchestrator sees them. */
export interface RecordsUnderTest {
  records: Records;
  /** The same database as another orchestrator (or a command beside the server) sees it; closed with the subject. */
  another(): Promise<Records>;
  /** Closes the database and opens it again: what a restarted orchestrator finds. */
  reopen(): Promise<Records>;
  /** Cuts the connections that listen to other orchestrators' changes, as a network fault would; only on a shared database. */
  cutListeners(): Promise<void>;
  /** What the change feeds reported, in order. */
  feedErrors: string[];
  /** The stored row of a token, as the engine keeps it. */
  tokenRow(id: string): Promise<Record<string, unknown>>;
  dispose(): Promise<void>;
}

export interface RecordsBackend {
  name: string;
  /** Whether several orchestrators share the database, and each hears of the others' claims and drains. */
  shared: boolean;
  /** The engine's own words when a CHECK or FOREIGN KEY constraint refuses a row. */
  checkError: RegExp;
  foreignKeyError: RegExp;
  skipUnavailable(context: Mocha.Context): Promise<void>;
  open(): Promise<RecordsUnderTest>;
}

const sqlite: RecordsBackend = {
  name: 'SQLite',
  shared: false,
  checkError: /^CHECK constraint failed/,
  foreignKeyError: /^FOREIGN KEY constraint failed$/,
  skipUnavailable: async () => undefined,
  async open() {
    const temp = await openTempDatabase();
    const others: ReturnType<typeof openDatabase>[] = [];
    const open = () => {
      const db = openDatabase(temp.file);
      others.push(db);
      return sqliteRecords(db);
    };
    return {
      records: sqliteRecords(temp.db),
      another: async () => open(),
      async reopen() {
        temp.db.close();
        return open();
      },
      cutListeners: async () => undefined,
      feedErrors: [],
      tokenRow: async (id) => temp.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Record<string, unknown>,
      async dispose() {
        for (const db of others) db.close();
        await temp.dispose();
      },
    };
  },
};

/** One database and pool for every case, emptied before each. */
let shared: Promise<{ url: string; pool: Pool }> | undefined;
after(async () => (await shared)?.pool.end());

const postgres: RecordsBackend = {
  name: 'PostgreSQL',
  shared: true,
  checkError: /^new row for relation "users" violates check constraint/,
  foreignKeyError: /^insert or update on table "tokens" violates foreign key constraint/,
  async skipUnavailable(context) {
    postgresOrSkip(context, await sharedPostgres());
  },
  async open() {
    shared ??= (async () => {
      const url = await ((await sharedPostgres()) as TestPostgres).createDatabase();
      return { url, pool: await openPostgres(url) };
    })();
    const { url, pool } = await shared;
    await pool.query('TRUNCATE tokens, users, agent_accounts, process_pools, drained_accounts, agents, audit, callbacks');
    const opened: Records[] = [];
    const feedErrors: string[] = [];
    const open = async () => {
      const records = await postgresRecords(pool, url, (error) => feedErrors.push(error.message));
      opened.push(records);
      return records;
    };
    return {
      records: await open(),
      another: open,
      reopen: open,
      async cutListeners() {
        await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'outpost-changes' AND datname = current_database()");
      },
      feedErrors,
      tokenRow: async (id) => (await pool.query('SELECT * FROM tokens WHERE id = $1', [id])).rows[0] as Record<string, unknown>,
      async dispose() {
        for (const records of opened) await records.close();
      },
    };
  },
};

/** Declares `cases` once per engine, each run against fresh records. */
export function forEachRecords(title: string, cases: (subject: () => RecordsUnderTest, backend: RecordsBackend) => void): void {
  for (const backend of [sqlite, postgres]) {
    describe(`${title} (${backend.name})`, function () {
      let subject: RecordsUnderTest | undefined;
      before(async function () {
        await backend.skipUnavailable(this);
      });
      beforeEach(async () => {
        subject = await backend.open();
      });
      afterEach(() => subject?.dispose());
      cases(() => subject!, backend);
    });
  }
}

