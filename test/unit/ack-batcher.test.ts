import { expect } from 'chai';
import { MAX_ACKS_PER_MESSAGE, type OrchestratorMessage } from '../../protocol/index.js';
import { AckBatcher } from '../../src/jobs/ack-batcher.js';

const BATCHING = 'new@example.org/agent';
const OLD = 'old@example.org/agent';
const WINDOW_MS = 30;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ack = (job: string, seq = 2): OrchestratorMessage => ({ v: 1, type: 'ack', job, seq });

describe('AckBatcher: acknowledgements gathered per agent', function () {
  let sent: [string, OrchestratorMessage][];
  let batcher: AckBatcher;

  beforeEach(function () {
    sent = [];
    batcher = new AckBatcher({ send: async (jid, message) => void sent.push([jid, message]), takesBatches: (jid) => jid === BATCHING, windowMs: WINDOW_MS });
  });

  it('holds the acks of an agent that takes batches for the window, then sends them in one message', async function () {
    const settled = [batcher.send(BATCHING, ack('a')), batcher.send(BATCHING, ack('b', 3))];
    await sleep(WINDOW_MS / 3);
    expect(sent, 'sent within the window').to.deep.equal([]);
    await Promise.all(settled);
    expect(sent).to.deep.equal([[BATCHING, { v: 1, type: 'acks', acks: [{ job: 'a', seq: 2 }, { job: 'b', seq: 3 }] }]]);
  });

  it('lists a job acknowledged twice in one window once, with the higher seq', async function () {
    await Promise.all([batcher.send(BATCHING, ack('a', 3)), batcher.send(BATCHING, ack('a', 2))]);
    expect(sent).to.deep.equal([[BATCHING, { v: 1, type: 'acks', acks: [{ job: 'a', seq: 3 }] }]]);
  });

  it(`sends a batch as soon as ${MAX_ACKS_PER_MESSAGE} acks wait, and starts the next one`, async function () {
    const jobs = Array.from({ length: MAX_ACKS_PER_MESSAGE + 1 }, (_, i) => `job-${i}`);
    const settled = jobs.map((job) => batcher.send(BATCHING, ack(job)));
    await settled[0];
    expect(sent.map(([, message]) => (message as { acks: unknown[] }).acks.length), 'entries per message before the window ends').to.deep.equal([MAX_ACKS_PER_MESSAGE]);
    await settled[MAX_ACKS_PER_MESSAGE];
    expect(sent[1]).to.deep.equal([BATCHING, { v: 1, type: 'acks', acks: [{ job: `job-${MAX_ACKS_PER_MESSAGE}`, seq: 2 }] }]);
  });

  it('sends acks to an agent without the feature, and every other message, at once', async function () {
    void batcher.send(OLD, ack('a'));
    void batcher.send(BATCHING, { v: 1, type: 'kill', job: 'b' });
    expect(sent).to.deep.equal([
      [OLD, ack('a')],
      [BATCHING, { v: 1, type: 'kill', job: 'b' }],
    ]);
  });

  it('drops what waits for an agent that went away', async function () {
    const held = batcher.send(BATCHING, ack('a'));
    batcher.forget(BATCHING);
    await sleep(WINDOW_MS * 2);
    expect(sent).to.deep.equal([]);
    await held.then(
      () => expect.fail('a dropped batch must not count as sent'),
      (err: Error) => expect(err.message).to.equal(`${BATCHING} went away before its acknowledgements were sent`),
    );
  });

  it('sends what waits when stopped, and later acks one by one', async function () {
    void batcher.send(BATCHING, ack('a'));
    await batcher.stop();
    expect(sent).to.deep.equal([[BATCHING, { v: 1, type: 'acks', acks: [{ job: 'a', seq: 2 }] }]]);
    void batcher.send(BATCHING, ack('b'));
    expect(sent[1]).to.deep.equal([BATCHING, ack('b')]);
  });
});
