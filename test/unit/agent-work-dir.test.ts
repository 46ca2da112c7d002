import { expect } from 'chai';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultWorkDir, loadAgentConfig } from '../../agent/config.js';
import { RunJournal } from '../../agent/jobs/run-journal.js';
import { RunFolders } from '../../agent/jobs/run-folders.js';
import { Outbox } from '../../agent/jobs/outbox.js';
import { preparePrivateWorkDir } from '../../agent/jobs/work-dir.js';
import { testLogger } from '../helpers/logger.js';

const modeOf = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);
const REQUIRED = ['--server', 'xmpp://127.0.0.1:5222', '--jid', 'gpu-box@example.org', '--password', 'p', '--services', '.'];

describe('agent work directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-workdir-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('defaults to $XDG_STATE_HOME/outpost-agent/NAME, else ~/.local/state/outpost-agent/NAME', () => {
    expect(loadAgentConfig(REQUIRED, { XDG_STATE_HOME: '/var/lib/me/state', HOME: '/home/me' }).workDir).to.equal('/var/lib/me/state/outpost-agent/gpu-box');
    expect(loadAgentConfig(REQUIRED, { HOME: '/home/me' }).workDir).to.equal('/home/me/.local/state/outpost-agent/gpu-box');
    expect(defaultWorkDir('gpu-box', { XDG_STATE_HOME: 'relative/state', HOME: '/home/me' })).to.equal('/home/me/.local/state/outpost-agent/gpu-box');
    expect(loadAgentConfig([...REQUIRED, '--work-dir', '/srv/agent'], { HOME: '/home/me' }).workDir).to.equal('/srv/agent');
  });

  it('reads how long stopping lets runs finish, 30 s unless told', () => {
    expect(loadAgentConfig(REQUIRED, { HOME: '/home/me' }).stopGraceMs).to.equal(30_000);
    expect(loadAgentConfig([...REQUIRED, '--stop-grace', '2.5'], { HOME: '/home/me' }).stopGraceMs).to.equal(2500);
    expect(loadAgentConfig(REQUIRED, { HOME: '/home/me', OUTPOST_AGENT_STOP_GRACE: '0' }).stopGraceMs).to.equal(0);
    expect(() => loadAgentConfig([...REQUIRED, '--stop-grace', 'soon'], { HOME: '/home/me' })).to.throw('--stop-grace must be a number of seconds (got soon)');
  });

  it('creates a missing work directory and its parents as 0700, and makes an existing one 0700', async () => {
    const fresh = path.join(dir, 'state', 'outpost-agent', 'gpu-box');
    await preparePrivateWorkDir(fresh);
    expect([await modeOf(path.dirname(fresh)), await modeOf(fresh)]).to.deep.equal(['700', '700']);

    const existing = path.join(dir, 'existing');
    await mkdir(existing);
    await chmod(existing, 0o755);
    await preparePrivateWorkDir(existing);
    expect(await modeOf(existing)).to.equal('700');
  });

  it('refuses a work directory of another user, and a file, and leaves them as they were', async () => {
    // As root, a folder given to `nobody`; as anyone else, `/`, which root owns.
    const me = process.getuid!();
    const theirs = me === 0 ? path.join(dir, 'theirs') : '/';
    if (me === 0) {
      await mkdir(theirs, { mode: 0o755 });
      await chown(theirs, 65534, 65534);
    }
    const before = await modeOf(theirs);
    let message = '';
    await preparePrivateWorkDir(theirs).catch((err: Error) => (message = err.message));
    expect(message).to.equal(`work dir ${theirs} belongs to uid ${(await stat(theirs)).uid}, not to this user (uid ${me}); choose another --work-dir`);
    expect(await modeOf(theirs)).to.equal(before);

    const file = path.join(dir, 'file');
    await writeFile(file, '');
    await preparePrivateWorkDir(file).catch((err: Error) => (message = err.message));
    expect(message).to.equal(`work dir ${file} is not a directory`);
  });

  it('keeps the run journal and unacknowledged results as 0600 files, in 0700 folders', async () => {
    (await RunJournal.open(dir, testLogger)).close();
    await RunFolders.open(dir);
    const outbox = await Outbox.open(path.join(dir, 'outbox'));
    outbox.setSender(() => new Promise(() => undefined));
    await outbox.add({ v: 1, type: 'killed', job: 'job-1', seq: 3 });
    await outbox.close();
    const modes = await Promise.all(['jobs', 'spare-run-folders', 'runs.journal', 'outbox', 'outbox/job-1.json'].map((name) => modeOf(path.join(dir, name))));
    expect(modes).to.deep.equal(['700', '700', '600', '700', '600']);
  });
});
