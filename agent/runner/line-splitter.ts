const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Records longer than this are passed on in pieces and never parsed, so memory stays bounded. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Output that stops without a terminator for this long is a record of its own. */
export const QUIET_RECORD_MS = 200;
/**
 * GDAL's `0...10...20...`: a record ends after a number of at most three digits and three dots
 * that follows the record's start, a space, a colon, a tab or GDAL's previous three dots
 * (`Processing a.tif [1/1] : 0...` is one record, `10...` the next; `v1.2...` is not cut).
 */
const DOTTED_PERCENT_DOTS = 3;
/** The longest tail that decides it: three dots, three digits, three dots. */
const DOTTED_TAIL_BYTES = 9;
/** A quiet record that could still become `N...` waits for its dots at most this long. */
const MAX_DOTS_WAIT_MS = 2000;

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

  /** Whether the dot at `dot` completes GDAL's `N...` at the record's end; looks at its last few bytes only. */
  private endsDottedPercent(chunk: Buffer, start: number, dot: number): boolean {
    if (this.overlong) return false;
    return dottedTail(this.tail(chunk.subarray(start, dot + 1)), this.pendingBytes + dot + 1 - start) === DOTTED_PERCENT_DOTS;
  }

  /** The record begun could still become `N...`. */
  private awaitsDots(): boolean {
    if (this.overlong) return false;
    const dots = dottedTail(this.tail(Buffer.alloc(0)), this.pendingBytes);
    return dots !== undefined && dots < DOTTED_PERCENT_DOTS;
  }

  /** The last bytes of the record so far followed by `last`, at most the number that decides a dotted tail (plus one for its boundary). */
  private tail(last: Buffer): Buffer {
    const wanted = DOTTED_TAIL_BYTES + 1;
    const parts = [last];
    let bytes = last.length;
    for (let i = this.pending.length - 1; i >= 0 && bytes < wanted; i--) {
      parts.unshift(this.pending[i]!);
      bytes += this.pending[i]!.length;
    }
    const joined = parts.length === 1 ? last : Buffer.concat(parts);
    return joined.subarray(Math.max(0, joined.length - wanted));
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
    const quietSince = Date.now();
    const onQuiet = () => {
      this.quietTimer = undefined;
      if (!this.heldCr && this.awaitsDots() && Date.now() - quietSince < MAX_DOTS_WAIT_MS) {
        this.quietTimer = setTimeout(onQuiet, this.quietMs).unref();
        return;
      }
      this.heldCr = false;
      this.endLine(Buffer.alloc(0));
    };
    this.quietTimer = setTimeout(onQuiet, this.quietMs);
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

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= ZERO && byte <= NINE;
const isBoundary = (byte: number | undefined) => byte === 0x20 || byte === 0x3a || byte === 0x09;

/**
 * For a record whose tail is GDAL's `N` and up to three dots (`tail` its last bytes, `length` the
 * whole record's): how many dots; undefined when the tail is anything else.
 */
function dottedTail(tail: Buffer, length: number): number | undefined {
  let end = tail.length;
  let dots = 0;
  while (end > 0 && tail[end - 1] === DOT && dots <= DOTTED_PERCENT_DOTS) {
    end--;
    dots++;
  }
  let digits = 0;
  while (end - digits > 0 && isDigit(tail[end - digits - 1])) digits++;
  if (dots > DOTTED_PERCENT_DOTS || digits === 0 || digits > 3) return undefined;
  const before = end - digits;
  // The digits start the record, or follow a space, a colon, or GDAL's previous three dots.
  const atStart = length - tail.length + before === 0;
  const afterDots = before >= 3 && tail.subarray(before - 3, before).every((byte) => byte === DOT);
  return atStart || isBoundary(tail[before - 1]) || afterDots ? dots : undefined;
}

function stripTerminator(text: string): string {
  return text.replace(/\r?\n$|\r$/, '');
}
