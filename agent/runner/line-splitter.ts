const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Records longer than this are passed on in pieces and never parsed, so memory stays bounded. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Output that stops without a terminator for this long is a record of its own. */
export const QUIET_RECORD_MS = 200;
/** GDAL's `0...10...20...`: a number of at most three digits and three dots is a record of its own. */
const MAX_DOTTED_PERCENT_BYTES = 6;
const DOTTED_PERCENT_DOTS = 3;

/**
 * Receives the stream cut into pieces whose concatenation is exactly the input.
 * `line` is a whole record of at most the maximum length, terminator removed; undefined for a
 * piece of an overlong one.
 */
export type SegmentHandler = (bytes: Buffer, line: string | undefined) => void;

/**
 * Splits a byte stream into records as they arrive (docs/decisions.md, Outputs and progress): a
 * record ends at LF, CRLF or a lone CR (progress bars redraw with CR), after a leading percent and
 * `...` (GDAL's progress), and, when `quietMs` is given, once the stream has been quiet that long
 * with a record begun, unless that record could still become GDAL's `N...` (the dots come as the work
advances, and a cut would hide the number). Each byte is looked at once. Works on bytes: LF, CR and `.` never occur
 * inside a UTF-8 sequence, so no character is cut (a quiet cut may split one; it is then decoded
 * with a replacement character, for parsing only).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overlong = false;
  /** A CR ending a chunk: whether it is a lone CR or the start of CRLF is known only later. */
  private heldCr = false;
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onSegment: SegmentHandler,
    private readonly maxLineBytes = MAX_LINE_BYTES,
    private readonly quietMs?: number,
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
      if (byte === DOT) {
        if (this.endsDottedPercent(chunk, start, i)) {
          this.endLine(chunk.subarray(start, i + 1));
          start = i + 1;
        }
        continue;
      }
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
    this.watchQuiet();
  }

  /** Passes on what is left once the stream has ended: an unterminated last record is a record too. */
  end(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    this.heldCr = false;
    this.endLine(Buffer.alloc(0));
  }

  /** Whether the dot at `dot` completes a record `N...`; the record is short, so this costs little. */
  private endsDottedPercent(chunk: Buffer, start: number, dot: number): boolean {
    const length = this.pendingBytes + dot - start + 1;
    if (length <= DOTTED_PERCENT_DOTS || length > MAX_DOTTED_PERCENT_BYTES || this.overlong) return false;
    const record = this.pendingBytes === 0 ? chunk.subarray(start, dot + 1) : Buffer.concat([...this.pending, chunk.subarray(start, dot + 1)]);
    return dottedPercentDots(record) === DOTTED_PERCENT_DOTS;
  }

  /** The record begun could still become `N...`. */
  private awaitsDots(): boolean {
    return this.pendingBytes < MAX_DOTTED_PERCENT_BYTES && !this.overlong && dottedPercentDots(Buffer.concat(this.pending)) !== undefined;
  }

  private watchQuiet(): void {
    if (this.quietMs === undefined) return;
    if (this.pendingBytes === 0 && !this.heldCr) {
      clearTimeout(this.quietTimer);
      this.quietTimer = undefined;
      return;
    }
    if (this.quietTimer) {
      this.quietTimer.refresh();
      return;
    }
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      if (!this.heldCr && this.awaitsDots()) return;
      this.heldCr = false;
      this.endLine(Buffer.alloc(0));
    }, this.quietMs);
    this.quietTimer.unref();
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

/** For 1–3 digits followed by dots alone (at most three): how many dots; undefined for anything else. */
function dottedPercentDots(record: Buffer): number | undefined {
  let digits = 0;
  while (digits < record.length && record[digits]! >= ZERO && record[digits]! <= NINE) digits++;
  const dots = record.length - digits;
  if (digits === 0 || digits > 3 || dots > DOTTED_PERCENT_DOTS) return undefined;
  for (let i = digits; i < record.length; i++) if (record[i] !== DOT) return undefined;
  return dots;
}

function stripTerminator(text: string): string {
  return text.replace(/\r?\n$|\r$/, '');
}
