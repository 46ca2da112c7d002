import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** Silent unless OUTPOST_TEST_LOG names a level, e.g. `OUTPOST_TEST_LOG=debug npm test`. */
export const testLogger = pino({ level: process.env['OUTPOST_TEST_LOG'] ?? 'silent' });

/** A real pino logger at `info` whose lines the test reads, parsed, from `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}
