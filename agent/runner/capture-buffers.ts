/** Keeps everything pushed, up to a byte limit. */
export class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  /** Returns false, keeping nothing more, once the limit would be exceeded. */
  push(bytes: Buffer): boolean {
    if (this.size + bytes.length > this.maxBytes) return false;
    this.chunks.push(bytes);
    this.size += bytes.length;
    return true;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** Keeps the last bytes pushed, up to a byte limit. */
export class TailBuffer {
  private tail = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(bytes: Buffer): void {
    const joined = Buffer.concat([this.tail, bytes]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - this.maxBytes)));
  }

  /** The tail as text, starting at a whole character. */
  toString(): string {
    let start = 0;
    while (start < this.tail.length && ((this.tail[start] ?? 0) & 0xc0) === 0x80) start++;
    return this.tail.subarray(start).toString('utf8');
  }
}

/** `16 MiB`, `4 KiB` or `100 bytes`, for messages about limits. */
export function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
