const LF = 0x0a;
const CR = 0x0d;

/** Lines longer than this are passed on in pieces and never parsed, so memory stays bounded. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Receives the stream cut into pieces whose concatenation is exactly the input.
 * `line` is a whole line of at most the maximum length, terminator included; undefined for a
 * piece of an overlong line.
 */
export type SegmentHandler = (bytes: Buffer, line: string | undefined) => void;

/**
 * Splits a byte stream into lines ended by LF, CRLF or a lone CR (progress bars redraw with CR).
 * Works on bytes: LF and CR never occur inside a UTF-8 sequence, so no character is cut.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overlong = false;
  /** A CR ending a chunk: whether it is a lone CR or the start of CRLF is known only later. */
  private heldCr = false;

  constructor(
    private readonly onSegment: SegmentHandler,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let start = 0;
    if (this.heldCr) {
      this.heldCr = false;
      start = chunk[0] === LF ? 1 : 0;
      this.endLine(chunk.subarray(0, start));
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      if (byte === CR && i + 1 === chunk.length) {
        this.heldCr = true;
        break;
      }
      const end = byte === CR && chunk[i + 1] === LF ? i + 2 : i + 1;
      this.endLine(chunk.subarray(start, end));
      start = end;
      i = end - 1;
    }
    this.append(chunk.subarray(start));
  }

  /** Passes on what is left once the stream has ended: an unterminated last line is a line too. */
  end(): void {
    this.heldCr = false;
    this.endLine(Buffer.alloc(0));
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.overlong = true;
      this.onSegment(this.take(Buffer.alloc(0)), undefined);
    }
  }

  private endLine(last: Buffer): void {
    const bytes = this.take(last);
    const whole = !this.overlong;
    this.overlong = false;
    if (bytes.length > 0) this.onSegment(bytes, whole ? stripTerminator(bytes.toString('utf8')) : undefined);
  }

  private take(last: Buffer): Buffer {
    const bytes = this.pending.length === 0 ? last : Buffer.concat([...this.pending, last]);
    this.pending = [];
    this.pendingBytes = 0;
    return bytes;
  }
}

function stripTerminator(text: string): string {
  return text.replace(/\r?\n$|\r$/, '');
}
