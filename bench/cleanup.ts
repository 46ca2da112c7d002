/**
 * Stops what a benchmark started, newest first, exactly once, whether it ends normally, throws,
 * or is interrupted by a signal. Nested stacks let one scenario tear down its processes before
 * the next starts, so two systems never compete for the same cores.
 */
export class CleanupStack {
  readonly #steps: { name: string; step: () => Promise<void> | void }[] = [];
  #running: Promise<void> | undefined;

  add(name: string, step: () => Promise<void> | void): void {
    this.#steps.push({ name, step });
  }

  run(): Promise<void> {
    return (this.#running ??= (async () => {
      for (let next = this.#steps.pop(); next; next = this.#steps.pop()) {
        try {
          await next.step();
        } catch (error) {
          process.stderr.write(`bench: stopping ${next.name} failed: ${(error as Error).message}\n`);
        }
      }
      this.#running = undefined;
    })());
  }

  /** Runs `body` with a stack of its own that is emptied when `body` ends, and by this one meanwhile. */
  async scoped<T>(name: string, body: (stack: CleanupStack) => Promise<T>): Promise<T> {
    const inner = new CleanupStack();
    this.add(name, () => inner.run());
    try {
      return await body(inner);
    } finally {
      await inner.run();
    }
  }
}

/** On SIGINT, SIGTERM or SIGHUP: empty the stack (bounded by `graceMs`), then exit with 128 + signal. */
export function stopOnSignals(stack: CleanupStack, graceMs = 20_000): void {
  const codes = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping everything it started\n`);
      const timer = setTimeout(() => process.exit(128 + code), graceMs);
      void stack.run().finally(() => {
        clearTimeout(timer);
        process.exit(128 + code);
      });
    });
  }
}
