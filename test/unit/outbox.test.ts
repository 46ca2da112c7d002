import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Outbox, PERSIST_AFTER_MS } from '../../agent/jobs/outbox.js';
import type { TerminalEvent } from '../../protocol/index.js';
import { TempDirs } from '../helpers/runner-fixtures.js';

describe('the outbox of terminal events', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.removeAll());

  async function openOutbox(): Promise<{ outbox: Outbox; dir: string; sent: TerminalEvent[] }> {
    const dir = path.join(await dirs.make(), 'outbox');
    const outbox = await Outbox.open(dir);
    const sent: TerminalEvent[] = [];
    outbox.setSender(async (event) => void sent.push(event));
    return { outbox, dir, sent };
  }

  it('sends at once and never writes an event acknowledged quickly', async () => {
    const { outbox, dir, sent } = await openOutbox();
    await outbox.add({ v: 1, type: 'killed', job: 'job-1', seq: 2 });
    expect(sent.map((event) => event.job)).to.deep.equal(['job-1']);
    expect(await outbox.ack('job-1', 2)).to.equal(true);
    await sleep(PERSIST_AFTER_MS + 50);
    expect(await readdir(dir)).to.deep.equal([]);
    await outbox.close();
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('writes an event still unacknowledged after a while, and removes it on the ack', async () => {
    const { outbox, dir } = await openOutbox();
    const event: TerminalEvent = { v: 1, type: 'killed', job: 'job-2', seq: 2 };
    await outbox.add(event);
    await sleep(PERSIST_AFTER_MS + 100);
    expect(JSON.parse(await readFile(path.join(dir, 'job-2.json'), 'utf8'))).to.deep.equal(event);
    await outbox.ack('job-2', 2);
    expect(await readdir(dir)).to.deep.equal([]);
    await outbox.close();
  });

  it('writes what is unacknowledged when it closes, and the next agent loads it', async () => {
    const { outbox, dir } = await openOutbox();
    const event: TerminalEvent = { v: 1, type: 'failed', job: 'job-3', seq: 4, code: 'exit', message: 'exited with code 1' };
    await outbox.add(event);
    await outbox.close();
    const reopened = await Outbox.open(dir);
    expect(reopened.get('job-3')).to.deep.equal(event);
    await reopened.close();
  });
});
