import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrivateProsody } from '../../dev/private-prosody.js';
import { testLogger } from '../helpers/logger.js';
import { TEST_DOMAIN } from '../helpers/prosody.js';

const MODULE = fileURLToPath(new URL('../../dev/private-prosody.js', import.meta.url));

const isAlive = (pid: number) => readFile(`/proc/${pid}/cmdline`, 'utf8').then((cmdline) => cmdline.includes('prosody'), () => false);

/** Starts a private Prosody from a process that is then SIGKILLed, as a crashed `outpost dev` would be. */
async function startAndCrash(dir: string): Promise<void> {
  const script = `
    import { PrivateProsody } from ${JSON.stringify(MODULE)};
    import pino from 'pino';
    await new PrivateProsody({ dir: ${JSON.stringify(dir)}, host: '127.0.0.1', domain: ${JSON.stringify(TEST_DOMAIN)}, logger: pino({ level: 'silent' }) }).start();
    process.stdout.write('started\\n');
    setInterval(() => {}, 1000);`;
  const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    owner.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve());
    owner.once('exit', (code) => reject(new Error(`the owner exited with ${code} before Prosody started`)));
  });
  owner.kill('SIGKILL');
  await new Promise((resolve) => owner.once('exit', resolve));
}

describe('private Prosody left behind by a crash', function () {
  this.timeout(30_000);
  let dir: string;

  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-leftover-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('is found through its pid file and stopped when the next one starts in the same folder', async () => {
    await startAndCrash(dir);
    const leftover = Number(await readFile(path.join(dir, 'prosody.pid'), 'utf8'));
    expect(await isAlive(leftover), 'the crashed owner left its Prosody running').to.equal(true);

    const next = new PrivateProsody({ dir, host: '127.0.0.1', domain: TEST_DOMAIN, logger: testLogger });
    await next.start();
    try {
      expect(await isAlive(leftover)).to.equal(false);
      expect(Number(await readFile(path.join(dir, 'prosody.pid'), 'utf8'))).to.not.equal(leftover);
    } finally {
      await next.stop();
    }
    expect(await readFile(path.join(dir, 'prosody.pid'), 'utf8').catch(() => 'removed')).to.equal('removed');
  });
});
