import tty from 'node:tty';
import { pino, type Logger } from 'pino';

/** Where log lines go: standard output unless a test gives another file. */
export interface LogOutput {
  fd: number;
  isTTY: boolean;
}

/** Local time with its UTC offset, in ISO 8601 (dateformat masks, as pino-pretty takes them). */
const LOCAL_ISO_TIME = "SYS:yyyy-mm-dd'T'HH:MM:ss.lp";

/**
 * The orchestrator's logger (dev and serve): JSON lines for a service manager or a log collector,
 * and, when they go to a terminal, lines a person reads, with local times (pino-pretty).
 */
export function createLogger(level: string, output: LogOutput = { fd: 1, isTTY: Boolean(process.stdout.isTTY) }): Logger {
  if (!output.isTTY) return pino({ level }, pino.destination({ fd: output.fd }));
  return pino({
    level,
    transport: {
      target: 'pino-pretty',
      options: { destination: output.fd, translateTime: LOCAL_ISO_TIME, ignore: 'pid,hostname', colorize: tty.isatty(output.fd) },
    },
  });
}
