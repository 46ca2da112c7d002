import { mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { TerminalEvent } from '../../protocol/index.js';
import { PRIVATE_DIR, PRIVATE_FILE } from './work-dir.js';

const INITIAL_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;
/** An event acknowledged sooner is never written to disk (docs/decisions.md, Performance). */
export const PERSIST_AFTER_MS = 200;

interface Pending {
  event: TerminalEvent;
  timer?: NodeJS.Timeout;
  delay: number;
  persistTimer?: NodeJS.Timeout;
  /** Set once the event is (being) written to disk. */
  written?: Promise<void>;
}

/**
 * Terminal job events (completed, failed, killed) kept until the orchestrator acks them, resent
 * with exponential backoff, so that neither a lost stanza nor an agent restart loses a result.
 * One not acknowledged within PERSIST_AFTER_MS, or still unacknowledged when the agent stops,
 * is kept on disk; only a crash within that short window can lose a result.
 */
export class Outbox {
  readonly #pending = new Map<string, Pending>();
  #send: (event: TerminalEvent) => Promise<void> = async () => undefined;
  #closed = false;

  private constructor(readonly dir: string) {}

  /** Opens the outbox folder and loads what an earlier run left unacknowledged. */
  static async open(dir: string): Promise<Outbox> {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    const outbox = new Outbox(dir);
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.json')) continue;
      const text = await readFile(path.join(dir, file), 'utf8').catch(() => undefined);
      if (!text) continue;
      try {
        const event = JSON.parse(text) as TerminalEvent;
        outbox.#pending.set(event.job, { event, delay: INITIAL_DELAY_MS, written: Promise.resolve() });
      } catch {
        await rm(path.join(dir, file), { force: true });
      }
    }
    return outbox;
  }

  #onWriteError: (job: string, err: Error) => void = () => undefined;

  /** Told when an event could not be kept on disk (it is still delivered while the agent runs). */
  onWriteError(listener: (job: string, err: Error) => void): void {
    this.#onWriteError = listener;
  }

  /** How events are sent; set once the link exists. */
  setSender(send: (event: TerminalEvent) => Promise<void>): void {
    this.#send = send;
  }


  /** Events not yet acknowledged. */
  get size(): number {
    return this.#pending.size;
  }

  get(job: string): TerminalEvent | undefined {
    return this.#pending.get(job)?.event;
  }


  /** Sends the event now; it goes to disk only if no ack has come after PERSIST_AFTER_MS. */
  async add(event: TerminalEvent): Promise<void> {
    const pending: Pending = { event, delay: INITIAL_DELAY_MS };
    this.#pending.set(event.job, pending);
    pending.persistTimer = setTimeout(() => (pending.written = this.#persist(event)), PERSIST_AFTER_MS);
    pending.persistTimer.unref();
    this.#attempt(pending);
  }

  async ack(job: string, seq: number): Promise<boolean> {
    const pending = this.#pending.get(job);
    if (!pending || seq < pending.event.seq) return false;
    clearTimeout(pending.timer);
    clearTimeout(pending.persistTimer);
    this.#pending.delete(job);
    if (pending.written) {
      await pending.written;
      await rm(this.#file(job), { force: true }).catch(() => undefined);
    }
    return true;
  }

  #file(job: string): string {
    return path.join(this.dir, `${job}.json`);
  }

  /** Write, then rename, so a crash never leaves half a file. */
  async #persist(event: TerminalEvent): Promise<void> {
    const file = this.#file(event.job);
    // A disk that refuses the write (full, read-only) must not lose the event: it is still sent and resent from memory.
    await writeFile(`${file}.tmp`, JSON.stringify(event), { mode: PRIVATE_FILE })
      .then(() => rename(`${file}.tmp`, file))
      .catch((err: Error) => this.#onWriteError(event.job, err));
  }

  /** Sends every pending event again now (after a reconnect), restarting the backoff. */
  resendAll(): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.delay = INITIAL_DELAY_MS;
      this.#attempt(pending);
    }
  }

  /** Stops resending; what is still unacknowledged and not yet on disk is written now, for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      clearTimeout(pending.persistTimer);
      pending.written ??= this.#persist(pending.event);
    }
    await Promise.all([...this.#pending.values()].map((pending) => pending.written));
  }

  #attempt(pending: Pending): void {
    if (this.#closed) return;
    this.#send(pending.event).catch(() => undefined);
    pending.timer = setTimeout(() => {
      pending.delay = Math.min(pending.delay * 2, MAX_DELAY_MS);
      this.#attempt(pending);
    }, pending.delay);
    pending.timer.unref();
  }
}
