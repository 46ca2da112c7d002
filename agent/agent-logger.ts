import { pino, type Logger } from 'pino';

/** Where log lines go: standard output unless a test gives another stream. */
export interface LogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** Local time with its UTC offset, in ISO 8601: 2026-05-04T12:00:01.234+02:00. */
export function localIsoTime(epochMs: number): string {
  const t = new Date(epochMs);
  const offset = -t.getTimezoneOffset();
  const date = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  return `${date}T${time}${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** One of pino's JSON lines as a person reads it: time, level, message, then the other fields. */
export function readableLine(json: string): string {
  const { time, level, msg, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const rest = Object.entries(fields).map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${localIsoTime(time as number)} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${rest.join('')}\n`;
}

/**
 * The standalone agent's logger: JSON lines for a service manager, and readable lines with local
 * times in a terminal. A formatter of its own rather than pino-pretty, so that the agent package
 * bundles no more than it runs on a server (docs/decisions.md, Fabric).
 */
export function createAgentLogger(level: string, jid: string, output: LogOutput = process.stdout): Logger {
  if (!output.isTTY) return pino({ level, base: { agent: jid } });
  return pino({ level }, { write: (line: string) => void output.write(readableLine(line)) });
}
