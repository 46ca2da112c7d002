import type { JobStoreApi } from './job-store-api.js';

type Writes = Pick<JobStoreApi, 'create' | 'assign' | 'markRunning' | 'note' | 'recordProgress' | 'finish' | 'remove' | 'expire'>;
type Write = (store: JobStoreApi) => Promise<unknown>;

interface Pending {
  write: Write;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * A job store whose writes issued in one turn of the event loop go to the store it wraps in
 * one transaction (docs/decisions.md, Performance): a burst of submissions, a placement pass or a
 * burst of agent events costs one commit, not one each. Each write still resolves with its own
 * result. Should the transaction fail, each of its writes is tried again on its own, so one bad
 * write fails alone.
 * Reads and `transaction` go straight through; a job's changes are already serialised by the
 * lifecycle, so a read it awaits after a write sees that write.
 */
export class BatchedWrites implements JobStoreApi {
  #pending: Pending[] = [];
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly store: JobStoreApi) {}

  get: JobStoreApi['get'] = (id) => this.store.get(id);
  list: JobStoreApi['list'] = (filter) => this.store.list(filter);
  assignedPerAgent: JobStoreApi['assignedPerAgent'] = () => this.store.assignedPerAgent();
  unfinished: JobStoreApi['unfinished'] = () => this.store.unfinished();
  transaction: JobStoreApi['transaction'] = (fn) => this.store.transaction(fn);

  create: Writes['create'] = (job, digest) => this.#batch((store) => store.create(job, digest));
  assign: Writes['assign'] = (id, agent, digest) => this.#batch((store) => store.assign(id, agent, digest));
  markRunning: Writes['markRunning'] = (id, agent, at, back) => this.#batch((store) => store.markRunning(id, agent, at, back));
  note: Writes['note'] = (id, message) => this.#batch((store) => store.note(id, message));
  recordProgress: Writes['recordProgress'] = (id, seq, progress, message) => this.#batch((store) => store.recordProgress(id, seq, progress, message));
  finish: Writes['finish'] = (id, seq, outcome) => this.#batch((store) => store.finish(id, seq, outcome));
  remove: Writes['remove'] = (id) => this.#batch((store) => store.remove(id));
  expire: Writes['expire'] = (keepMs, now, limit) => this.#batch((store) => store.expire(keepMs, now, limit));

  /** Resolves once every write asked for so far has been written or has failed: before the store closes. */
  async settled(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.#flushing;
  }

  #batch<T>(write: (store: JobStoreApi) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => (this.#flushing = this.#flush()));
      this.#pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 1) return this.#alone(batch[0]!);
    let results: unknown[];
    try {
      results = await this.store.transaction(async (store) => {
        const written: unknown[] = [];
        for (const { write } of batch) written.push(await write(store));
        return written;
      });
    } catch {
      for (const pending of batch) await this.#alone(pending);
      return;
    }
    batch.forEach((pending, index) => pending.resolve(results[index]));
  }

  #alone({ write, resolve, reject }: Pending): Promise<void> {
    return write(this.store).then(resolve, reject);
  }
}
