import { expect } from 'chai';
import path from 'node:path';
import { Outbox } from '../../agent/jobs/outbox.js';
import { runJob, type RunningJob } from '../../agent/jobs/job-runner.js';
import { RunJournal } from '../../agent/jobs/run-journal.js';
import { RunFolders } from '../../agent/jobs/run-folders.js';
import { defaultFetchLimits } from '../../agent/jobs/fetch-inputs.js';
import { runProcess } from '../../agent/runner/run-process.js';
import type { AgentMessage } from '../../protocol/index.js';
import { testLogger } from '../helpers/logger.js';
import { fixtureService, runnerSandbox } from '../helpers/runner-fixtures.js';

/** What a real run sends to the orchestrator, by type and sequence number. */
describe('runJob: the messages of one run', () => {
  const dirs = runnerSandbox();

  async function messagesOf(executable: string, args: string[], quietStartMs = 50): Promise<string[]> {
    const workDir = await dirs.make();
    const outbox = await Outbox.open(path.join(workDir, 'outbox'));
    const journal = await RunJournal.open(workDir, testLogger);
    const folders = await RunFolders.open(workDir);
    const sent: AgentMessage[] = [];
    const service = fixtureService('noop', { executable, customArgs: args, progress: 'PROGRESS (\\d+)' });
    const running: RunningJob = { job: 'job-1', process: 'noop', seq: 0, abort: new AbortController(), upload: undefined };
    const send = async (message: AgentMessage) => void sent.push(message);
    outbox.setSender(send);
    await new Promise<void>((resolve, reject) => {
      runJob({ folders, journal, outbox, send, run: runProcess, fetchLimits: defaultFetchLimits(), logger: testLogger, onSlotFree: () => undefined, onFinished: resolve, quietStartMs }, service, { v: 1, type: 'execute', job: 'job-1', process: 'noop', inputs: {} }, running).catch(reject);
    });
    await outbox.close();
    journal.close();
    return sent.map((message) => `${message.type} ${'seq' in message ? message.seq : ''}`);
  }

  it('sends only the terminal event of a run that ends within the quiet start', async () => {
    expect(await messagesOf('/bin/echo', ['PROGRESS', '50'], 2000)).to.deep.equal(['completed 1']);
  });

  it('sends early progress instead of accepted when the run goes on', async () => {
    // A quiet start long enough for the progress line to arrive on a busy machine.
    expect(await messagesOf('/bin/sh', ['-c', 'echo PROGRESS 50; sleep 1'], 500)).to.deep.equal(['progress 1', 'completed 2']);
  });

  it('says accepted when a run stays silent past the quiet start', async () => {
    expect(await messagesOf('/bin/sleep', ['0.3'])).to.deep.equal(['accepted 1', 'completed 2']);
  });
});
