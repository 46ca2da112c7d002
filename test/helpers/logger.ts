import { pino } from 'pino';

/** Silent unless OUTPOST_TEST_LOG names a level, e.g. `OUTPOST_TEST_LOG=debug npm test`. */
export const testLogger = pino({ level: process.env['OUTPOST_TEST_LOG'] ?? 'silent' });
