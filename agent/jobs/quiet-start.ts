/**
 * How long a new run stays silent (docs/protocol.md, quiet start): a run that ends sooner sends
 * only its terminal event, and one that reports progress sooner sends that progress instead of
 * `accepted`, since either tells the orchestrator the job runs.
 */
export const QUIET_START_MS = 50;

type Progress = { progress: number; message: string | undefined };

/** The first events of a run: `accepted` and early progress wait for the quiet start to pass. */
export class QuietStart {
  readonly #timer: NodeJS.Timeout;
  #open = false;
  #pending: Progress | undefined;

  constructor(
    private readonly sendAccepted: () => void,
    private readonly sendProgress: (progress: number, message: string | undefined) => void,
    quietMs = QUIET_START_MS,
  ) {
    this.#timer = setTimeout(() => this.#opened(), quietMs);
  }

  progress(progress: number, message: string | undefined): void {
    if (this.#open) return this.sendProgress(progress, message);
    this.#pending = { progress, message };
  }

  /** The run is over: what waited is dropped, as the terminal event says more. */
  end(): void {
    clearTimeout(this.#timer);
    this.#open = true;
  }

  #opened(): void {
    this.#open = true;
    if (this.#pending) this.sendProgress(this.#pending.progress, this.#pending.message);
    else this.sendAccepted();
  }
}
