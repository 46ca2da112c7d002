import { expect } from 'chai';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAgentLogger, localIsoTime } from '../../agent/agent-logger.js';
import { createLogger } from '../../cli/logger.js';
import { eventually } from '../helpers/cluster.js';

/** An ISO 8601 time with milliseconds and the local UTC offset, e.g. 2026-05-04T12:00:01.234+02:00. */
const LOCAL_ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d/;
const localOffset = () => localIsoTime(Date.now()).slice(-6);

describe('logs: readable in a terminal, JSON otherwise', function () {
  let dir: string;
  let file: string;
  let fd: number;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-logs-'));
    file = path.join(dir, 'log');
    fd = openSync(file, 'w');
  });
  afterEach(async function () {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the orchestrator\'s lines with pino-pretty and a local ISO time to a terminal', async function () {
    const logger = createLogger('info', { fd, isTTY: true });
    logger.debug('not at info');
    logger.info({ job: 'j1', agent: 'gpu@example.org/agent' }, 'job dispatched');
    const text = await eventually(() => readFileSync(file, 'utf8') || undefined, 5000, 'pretty line');
    const [first, ...fields] = text.trimEnd().split('\n');
    expect(first).to.match(new RegExp(`^\\[(${LOCAL_ISO.source})\\] INFO: job dispatched$`));
    expect(first!.slice(1, 30).slice(-6)).to.equal(localOffset());
    expect(Math.abs(Date.parse(first!.slice(1, 30)) - Date.now())).to.be.below(5000);
    expect(fields.map((line) => line.trim())).to.deep.equal(['job: "j1"', 'agent: "gpu@example.org/agent"']);
  });

  it('writes the orchestrator\'s lines as JSON with epoch times elsewhere', async function () {
    const logger = createLogger('info', { fd, isTTY: false });
    logger.info({ job: 'j1' }, 'job submitted');
    logger.flush();
    const line = JSON.parse(await eventually(() => readFileSync(file, 'utf8') || undefined, 5000, 'JSON line')) as Record<string, unknown>;
    expect(line).to.include({ level: 30, msg: 'job submitted', job: 'j1' });
    expect(line['time']).to.be.a('number');
  });

  it('writes the standalone agent\'s lines as one readable line each with a local ISO time to a terminal', function () {
    const written: string[] = [];
    const logger = createAgentLogger('info', 'gpu@example.org', { isTTY: true, write: (text) => written.push(text) });
    logger.debug('not at info');
    logger.warn({ file: 'bad.properties', reason: 'no executable' }, 'invalid service file');
    logger.info({ services: 2, processes: ['echo', 'slow'] }, 'services loaded');
    expect(written).to.have.length(2);
    expect(written[0]).to.match(new RegExp(`^${LOCAL_ISO.source} WARN invalid service file file=bad.properties reason=no executable\\n$`));
    expect(written[1]).to.match(new RegExp(`^${LOCAL_ISO.source} INFO services loaded services=2 processes=\\["echo","slow"\\]\\n$`));
    expect(written[1]!.slice(23, 29)).to.equal(localOffset());
  });

  it('formats local times in ISO 8601 with the offset of the time zone', function () {
    const at = new Date(2026, 4, 4, 12, 0, 1, 234);
    const offset = -at.getTimezoneOffset();
    const sign = offset < 0 ? '-' : '+';
    const hhmm = `${String(Math.trunc(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
    expect(localIsoTime(at.getTime())).to.equal(`2026-05-04T12:00:01.234${sign}${hhmm}`);
  });
});
