/** Writes made one after the other in the order asked, so that the last one asked is the one kept; each resolves or fails on its own. */
export class SerialWrites {
  #last: Promise<unknown> = Promise.resolve();

  run<T>(write: () => Promise<T>): Promise<T> {
    const result = this.#last.then(write);
    this.#last = result.catch(() => undefined);
    return result;
  }
}
