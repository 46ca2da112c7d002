/** How many invalid stanzas one account may have logged and answered per window. */
export interface StanzaLimit {
  perWindow: number;
  windowMs: number;
}

/** At most 20 log lines and error replies a minute per account, plus one summary line. */
export const DEFAULT_INVALID_STANZA_LIMIT: StanzaLimit = { perWindow: 20, windowMs: 60_000 };

/**
 * Counts invalid stanzas per bare JID in fixed windows, so that an agent account (or any account
 * that can reach the component) cannot turn a flood of bad stanzas into as many log lines and
 * replies. The first `perWindow` of a window are admitted; when a window in which some were
 * refused closes, `onSuppressed` tells how many.
 */
export class InvalidStanzaLimiter {
  readonly #windows = new Map<string, { count: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly limit: StanzaLimit,
    private readonly onSuppressed: (bareJid: string, suppressed: number) => void,
  ) {}

  /** Counts one invalid stanza of the account; true when it may still be logged and answered. */
  admit(bareJid: string): boolean {
    let window = this.#windows.get(bareJid);
    if (!window) {
      window = { count: 0, timer: setTimeout(() => this.#close(bareJid), this.limit.windowMs).unref() };
      this.#windows.set(bareJid, window);
    }
    window.count += 1;
    return window.count <= this.limit.perWindow;
  }

  /** Forgets every window, without summaries (the link is closing). */
  clear(): void {
    for (const window of this.#windows.values()) clearTimeout(window.timer);
    this.#windows.clear();
  }

  #close(bareJid: string): void {
    const window = this.#windows.get(bareJid);
    this.#windows.delete(bareJid);
    const suppressed = (window?.count ?? 0) - this.limit.perWindow;
    if (suppressed > 0) this.onSuppressed(bareJid, suppressed);
  }
}
