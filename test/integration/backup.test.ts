import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { repoRoot } from '../helpers/paths.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');
const JOBS = 150;

type Failure = { code: number; stdout: string; stderr: string };
const backup = (...args: string[]) => run(process.execPath, [outpost, 'backup', ...args]).catch((err: Failure) => err);

describe('outpost backup: a consistent copy of a running server’s database', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let servicesDir: string;
  let outDir: string;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    outDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-backup-'));
    await writeScript(servicesDir, 'bin/quick.sh', 'echo "$1"');
    await writeProperties(servicesDir, 'quick.properties', { service: 'quick', executable: 'bin/quick.sh', argformat: 'positional', inputs: '{"text":{"type":"string"}}' });
    await cluster.addAgent('backed', servicesDir, { slots: 2 });
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const submit = async (text: string) => {
    const response = await cluster.api(url('/processes/quick/execution'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { text } }),
    });
    return ((await response.json()) as { jobID: string }).jobID;
  };
  const statusOf = async (jobId: string) => (await cluster.api(url(`/jobs/${jobId}`))).status;

  it('copies the database while jobs are being written; the copy is whole and restores', async function () {
    const file = path.join(outDir, 'outpost-backup.db');
    // Jobs are created, dispatched, run and finished while the backup runs.
    const writing = Promise.all(Array.from({ length: JOBS }, (_, i) => submit(`job ${i}`)));
    const made = await backup(file, '--data-dir', cluster.dataDir);
    const submitted = await writing;
    expect(made.stdout).to.match(new RegExp(`^Backed up ${cluster.dataDir}/outpost.db to ${file} \\(\\d+ bytes, \\d+ jobs, integrity ok\\)\\. Result files in ${cluster.dataDir}/results are not in it\\.\\n$`));

    const copy = new BetterSqlite3(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).to.equal('ok');
    const rows = copy.prepare('SELECT id, process_id, inputs, status FROM jobs').all() as { id: string; process_id: string; inputs: string; status: string }[];
    const users = copy.prepare('SELECT name FROM users ORDER BY name').pluck().all();
    copy.close();
    expect(users).to.deep.equal(['admin', 'alice']);
    // Every job in the copy is one that was submitted, with its inputs as written.
    const byId = new Map(submitted.map((id, i) => [id, `job ${i}`]));
    expect(rows.length).to.be.greaterThan(0);
    for (const row of rows) {
      expect(row.process_id).to.equal('quick');
      expect(JSON.parse(row.inputs)).to.deep.equal({ text: byId.get(row.id) });
    }

    // Restoring: stop, put the file in place of the database (its WAL files removed), start.
    const later = await submit('after the backup');
    await eventually(async () => ((await statusOf(later)) === 200 ? true : undefined));
    await cluster.restartOrchestrator(0, async () => {
      for (const suffix of ['-wal', '-shm']) await rm(path.join(cluster.dataDir, `outpost.db${suffix}`), { force: true });
      await copyFile(file, path.join(cluster.dataDir, 'outpost.db'));
    });
    expect(await statusOf(rows[0]!.id)).to.equal(200);
    expect(await statusOf(later)).to.equal(404);
  });

  it('refuses to replace a file unless told to, and names a missing database', async function () {
    const file = path.join(outDir, 'taken.db');
    await writeFile(file, 'precious');
    const refused = (await backup(file, '--data-dir', cluster.dataDir)) as Failure;
    expect(refused.code).to.equal(2);
    expect(refused.stderr.split('\n')[0]).to.equal(`outpost: ${file} exists; give --force to replace it`);
    expect(await readFile(file, 'utf8')).to.equal('precious');

    const forced = await backup(file, '--force', '--data-dir', cluster.dataDir);
    expect(forced.stdout).to.match(/^Backed up /);
    expect((await readFile(file)).subarray(0, 15).toString()).to.equal('SQLite format 3');

    const missing = (await backup(path.join(outDir, 'x.db'), '--data-dir', outDir)) as Failure;
    expect([missing.code, missing.stderr.split('\n')[0]]).to.deep.equal([2, `outpost: no database at ${outDir}/outpost.db`]);
    const noFile = (await backup('--data-dir', cluster.dataDir)) as Failure;
    expect([noFile.code, noFile.stderr.split('\n')[0]]).to.deep.equal([2, 'outpost: backup needs a FILE to write']);
  });

  it('says that what PostgreSQL keeps is not in the copy, and refuses a database URL that is not postgres://', async function () {
    const file = path.join(outDir, 'beside-postgres.db');
    const done = await backup(file, '--data-dir', cluster.dataDir, '--database', 'postgres://outpost:secret@db.example.org/outpost');
    expect(done.stdout.split('\n')[1]).to.equal(
      'Jobs, users, tokens, agent accounts, the audit log and callbacks are in postgres://outpost:***@db.example.org/outpost, not in this file: back them up with pg_dump (docs/deploy.md).',
    );
    const refused = (await backup(path.join(outDir, 'other.db'), '--data-dir', cluster.dataDir, '--database', 'mysql://db.example.org/outpost')) as Failure;
    expect([refused.code, refused.stderr.split('\n')[0]]).to.deep.equal([
      2,
      "outpost: --database (or OUTPOST_DATABASE): must be a postgres:// URL, e.g. postgres://outpost@db.example.org/outpost; got 'mysql://db.example.org/outpost'",
    ]);
  });
});
