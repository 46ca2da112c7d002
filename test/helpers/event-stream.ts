/** One dispatched Server-Sent Event. */
export interface ServerSentEvent {
  event: string;
  id: string;
  data: string;
}

/** What a stream carries: events, and comment lines such as heartbeats. */
export type StreamItem = ServerSentEvent | { comment: string };

/** Reads a `text/event-stream` body (WHATWG HTML §9.2) item by item, as a browser's EventSource would. */
export class EventStreamReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #parsed: StreamItem[] = [];
  #buffer = '';
  #ended = false;

  constructor(response: Response) {
    if (!response.body) throw new Error('the response has no body');
    this.#reader = response.body.getReader();
  }

  /** The next event or comment, or undefined once the server has ended the stream. */
  async nextItem(timeoutMs = 5000): Promise<StreamItem | undefined> {
    const until = Date.now() + timeoutMs;
    while (this.#parsed.length === 0 && !this.#ended) await this.#read(until, timeoutMs);
    return this.#parsed.shift();
  }

  /** The next event (comments are skipped), or undefined once the server has ended the stream. */
  async next(timeoutMs = 5000): Promise<ServerSentEvent | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.nextItem(Math.max(0, until - Date.now()));
      if (item === undefined || !('comment' in item)) return item;
    }
  }

  /** Every event until the server ends the stream. */
  async rest(timeoutMs = 5000): Promise<ServerSentEvent[]> {
    const until = Date.now() + timeoutMs;
    const events: ServerSentEvent[] = [];
    for (;;) {
      const event = await this.next(Math.max(0, until - Date.now()));
      if (event === undefined) return events;
      events.push(event);
    }
  }

  /** Goes away, as a client that closes the page. */
  async close(): Promise<void> {
    await this.#reader.cancel();
  }

  async #read(until: number, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nothing more on the event stream within ${timeoutMs} ms`)), Math.max(0, until - Date.now()));
    });
    try {
      const chunk = await Promise.race([this.#reader.read(), timeout]);
      if (chunk.done) this.#ended = true;
      else this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    } catch (error) {
      await this.#reader.cancel().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#parseBlocks();
  }

  /** Blocks end with a blank line; fields are `name: value`, comments start with a colon. */
  #parseBlocks(): void {
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const lines = this.#buffer.slice(0, end).split('\n');
      this.#buffer = this.#buffer.slice(end + 2);
      const event: ServerSentEvent = { event: 'message', id: '', data: '' };
      const data: string[] = [];
      for (const line of lines) {
        if (line.startsWith(':')) {
          this.#parsed.push({ comment: line.slice(1).trimStart() });
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event' || field === 'id') event[field] = value;
      }
      // An event without data lines is not dispatched (WHATWG HTML §9.2.6).
      if (data.length > 0) this.#parsed.push({ ...event, data: data.join('\n') });
    }
  }
}
