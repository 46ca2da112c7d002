import { expect } from 'chai';
import pg from 'pg';
import { openPostgres } from '../../src/store/postgres/postgres-pool.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import { postgresOrSkip, type TestPostgres } from '../helpers/postgres.js';
import { openTempDatabase } from '../helpers/temp-database.js';
import { sharedPostgres } from './stores-under-test.js';

describe('openPostgres: the schema and its migrations', () => {
  let postgres: TestPostgres;
  let url: string;
  const pools: pg.Pool[] = [];
  const open = async (migrations?: readonly string[]) => {
    const pool = await openPostgres(url, migrations);
    pools.push(pool);
    return pool;
  };
  const column = async (pool: pg.Pool, sql: string) => (await pool.query(sql)).rows.map((row: Record<string, unknown>) => Object.values(row)[0]);

  before(async function () {
    postgres = postgresOrSkip(this, await sharedPostgres());
  });
  beforeEach(async () => {
    url = await postgres.createDatabase();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
  });

  it("has SQLite's tables and columns, the expiry instant that PostgreSQL cannot index otherwise, and what several orchestrators share", async () => {
    const pool = await open();
    expect(await column(pool, 'SELECT version FROM schema_migrations ORDER BY version')).to.deep.equal(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    const sqlite = await openTempDatabase();
    try {
      const inSqlite = sqlite.db
        .prepare(`SELECT m.name || '.' || c.name AS col FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' ORDER BY col`)
        .pluck()
        .all();
      const inPostgres = await column(
        pool,
        `SELECT table_name || '.' || column_name AS col FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
      );
      const registry = ['cluster_registry.id', 'cluster_registry.instance', 'cluster_registry.claims', 'cluster_registry.written'];
      const agents = ['cluster_agents.jid', 'cluster_agents.state', 'cluster_agents.catalog', 'cluster_agents.version', 'cluster_agents.catalog_version'];
      const cluster = ['jobs.dispatched_by', ...registry, ...agents];
      expect(inPostgres.sort()).to.deep.equal([...inSqlite, 'jobs.expires', ...cluster].sort());
    } finally {
      await sqlite.dispose();
    }
  });

  it('does not run applied migrations again on re-open, and runs new ones once', async () => {
    const first = ['CREATE TABLE log (step integer)', 'INSERT INTO log VALUES (2)'];
    await open(first);
    const again = await open(first);
    expect(await column(again, 'SELECT step FROM log')).to.deep.equal([2]);
    const upgraded = await open([...first, 'INSERT INTO log VALUES (3)']);
    expect(await column(upgraded, 'SELECT step FROM log ORDER BY step')).to.deep.equal([2, 3]);
    expect(await column(upgraded, 'SELECT max(version) FROM schema_migrations')).to.deep.equal([3]);
  });

  it('applies each step once when several orchestrators start together on a new database', async () => {
    const migrations = ['CREATE TABLE log (step integer)', 'INSERT INTO log VALUES (2)'];
    const [one] = await Promise.all([open(migrations), open(migrations), open(migrations)]);
    expect(await column(one!, 'SELECT step FROM log')).to.deep.equal([2]);
  });

  it('applies nothing of a start whose migration fails', async () => {
    const migrations = ['CREATE TABLE log (step integer)', 'INSERT INTO log VALUES (2); INSERT INTO missing VALUES (1)'];
    const failure = await open(migrations).catch((err: Error) => err.message);
    expect(failure).to.equal(`database ${url}: relation "missing" does not exist`);
    const pool = await open([]);
    expect(await column(pool, "SELECT to_regclass('log') IS NULL")).to.deep.equal([true]);
  });

  it('refuses a database written by a newer version', async () => {
    await (await open()).query('INSERT INTO schema_migrations (version) VALUES ($1)', [POSTGRES_MIGRATIONS.length + 1]);
    const failure = await open().catch((err: Error) => err.message);
    expect(failure).to.equal(
      `database ${url} has schema version ${POSTGRES_MIGRATIONS.length + 1} but this version of Outpost knows only up to ` +
        `${POSTGRES_MIGRATIONS.length}; run a newer Outpost or use another database`,
    );
  });

  it('says in one line which database it could not reach, without its password', async () => {
    const unreachable = 'postgres://outpost:secret@127.0.0.1:1/outpost';
    const failure = await openPostgres(unreachable).catch((err: Error) => err.message);
    expect(failure).to.equal('database postgres://outpost:***@127.0.0.1:1/outpost: connect ECONNREFUSED 127.0.0.1:1');
  });
});
