import { MAX_ACKS_PER_MESSAGE, type OrchestratorMessage } from '../../protocol/index.js';

type Send = (jid: string, message: OrchestratorMessage) => Promise<void>;

/**
 * How long an ack waits for others to the same agent. An agent resends an unacknowledged event
 * after 1 s and writes it to disk after 200 ms (agent/jobs/outbox.ts): 20 ms costs it nothing.
 */
export const ACK_WINDOW_MS = 20;

export interface AckBatcherOptions {
  send: Send;
  /** Whether the agent announced the `acks` feature in its presence. */
  takesBatches: (jid: string) => boolean;
  /** How long the first ack of a batch waits (default ACK_WINDOW_MS). */
  windowMs?: number;
}

interface Batch {
  /** Job → the highest `seq` acknowledged: an event resent meanwhile is listed once. */
  acks: Map<string, number>;
  timer: NodeJS.Timeout;
  /** Settles once the batch is sent, or rejects when it is dropped. */
  sent: Promise<void>;
  release: () => void;
  drop: (reason: Error) => void;
}

/**
 * Messages to agents, with the acknowledgements of an agent that takes batches gathered into
 * `acks` (docs/protocol.md §4.2.4; docs/decisions.md, Performance): an `ack` waits at most the
 * window, and a batch leaves at once when MAX_ACKS_PER_MESSAGE wait. Every other message, and
 * every ack to an agent without the feature, goes out at once as before.
 */
export class AckBatcher {
  readonly #options: AckBatcherOptions;
  readonly #batches = new Map<string, Batch>();
  #stopped = false;

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  /** Sends the message; a held ack settles when its batch has been sent. */
  readonly send: Send = (jid, message) => {
    if (message.type !== 'ack' || this.#stopped || !this.#options.takesBatches(jid)) return this.#options.send(jid, message);
    const batch = this.#batches.get(jid) ?? this.#open(jid);
    batch.acks.set(message.job, Math.max(message.seq, batch.acks.get(message.job) ?? 0));
    if (batch.acks.size >= MAX_ACKS_PER_MESSAGE) this.#flush(jid);
    return batch.sent;
  };

  /** The agent went away: what waits for it is dropped, since it resends its events to whoever it finds next. */
  forget(jid: string): void {
    const batch = this.#batches.get(jid);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.#batches.delete(jid);
    batch.drop(new Error(`${jid} went away before its acknowledgements were sent`));
  }

  /** Sends everything that waits; acks asked for later go out one by one at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const sent = [...this.#batches.keys()].map((jid) => this.#flush(jid));
    await Promise.allSettled(sent);
  }

  #open(jid: string): Batch {
    let release!: () => void;
    let drop!: (reason: Error) => void;
    const due = new Promise<void>((resolve, reject) => {
      release = resolve;
      drop = reject;
    });
    const acks = new Map<string, number>();
    const sent = due.then(() => this.#options.send(jid, { v: 1, type: 'acks', acks: [...acks].map(([job, seq]) => ({ job, seq })) }));
    // A dropped batch may have no listener left: its rejection is expected, never unhandled.
    sent.catch(() => undefined);
    const timer = setTimeout(() => this.#flush(jid), this.#options.windowMs ?? ACK_WINDOW_MS);
    timer.unref();
    const batch = { acks, timer, sent, release, drop };
    this.#batches.set(jid, batch);
    return batch;
  }

  #flush(jid: string): Promise<void> {
    const batch = this.#batches.get(jid)!;
    clearTimeout(batch.timer);
    this.#batches.delete(jid);
    batch.release();
    return batch.sent;
  }
}
