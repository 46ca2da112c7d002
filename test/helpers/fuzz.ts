import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { fixture } from './paths.js';

/*
 * Fuzzing the edges (README, Testing): every edge runs a bounded number of generated cases, after
 * replaying every input that ever failed there (test/fixtures/fuzz-corpus/<edge>/*.json).
 * OUTPOST_FUZZ_SCALE=N runs N times more cases, with N times the time budget; OUTPOST_FUZZ_SEED
 * replays the seed a failure printed.
 */

const SCALE = Number(process.env['OUTPOST_FUZZ_SCALE'] ?? '1');
const SEED = process.env['OUTPOST_FUZZ_SEED'];
if (!Number.isFinite(SCALE) || SCALE <= 0) throw new Error(`OUTPOST_FUZZ_SCALE must be a positive number (got '${process.env['OUTPOST_FUZZ_SCALE']}')`);

/** A test's timeout for `ms` in a normal run, stretched with OUTPOST_FUZZ_SCALE like the budgets. */
export const scaledTimeout = (ms: number) => Math.round(ms * SCALE);

/** A kept input: why it was kept, and the property's arguments. */
interface CorpusEntry {
  found: string;
  input: unknown[];
}

const corpusDir = (edge: string) => fixture('fuzz-corpus', edge);

/** Every input kept for `edge`, oldest first. */
function corpus<Ts extends unknown[]>(edge: string): Ts[] {
  let files: string[];
  try {
    files = readdirSync(corpusDir(edge)).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return files.sort().map((file) => (JSON.parse(readFileSync(path.join(corpusDir(edge), file), 'utf8')) as CorpusEntry).input as Ts);
}

/** Keeps a failing input in the corpus, named by its content, so every later run replays it. */
function keep(edge: string, input: unknown[], error: string): string {
  const text = JSON.stringify({ found: error.split('\n')[0], input }, null, 2);
  const file = path.join(corpusDir(edge), `${createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 16)}.json`);
  mkdirSync(corpusDir(edge), { recursive: true });
  writeFileSync(file, `${text}\n`);
  return file;
}

export interface EdgeBudget {
  /** Generated cases in a normal run. */
  runs: number;
  /** The run stops early, without failing, after this long. */
  timeMs: number;
}

/**
 * Checks `property` on the kept inputs of `edge`, then on `budget.runs` generated ones. A failure
 * (thrown or an unhandled rejection during the case) keeps its shrunk input in the corpus.
 */
export async function fuzzEdge<Ts extends unknown[]>(edge: string, budget: EdgeBudget, property: fc.IAsyncPropertyWithHooks<Ts>): Promise<void> {
  const parameters: fc.Parameters<Ts> = {
    numRuns: Math.round(budget.runs * SCALE),
    interruptAfterTimeLimit: Math.round(budget.timeMs * SCALE),
    examples: corpus<Ts>(edge),
    ...(SEED ? { seed: Number(SEED) } : {}),
  };
  const details = await fc.check(property, parameters);
  if (!details.failed) return;
  const error = String(details.errorInstance);
  const kept = details.counterexample ? `\nkept as ${keep(edge, details.counterexample, error)}` : '';
  throw new Error(`${error}\n${fc.defaultReportMessage(details)}${kept}`);
}

/** Collects unhandled rejections while a test file runs; `check` fails the test that saw one. */
export function watchUnhandledRejections(): { check(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => void seen.push(reason);
  before(() => void process.on('unhandledRejection', onRejection));
  after(() => void process.off('unhandledRejection', onRejection));
  return {
    check() {
      const reasons = seen.splice(0);
      if (reasons.length > 0) throw new Error(`unhandled rejection: ${reasons.map((reason) => (reason as Error)?.stack ?? String(reason)).join('\n')}`);
    },
  };
}

/** A refusal is one line: it fits a log field, a header and an OGC `detail`. */
export function expectOneLine(text: string, what: string): void {
  if (typeof text !== 'string' || text.length === 0 || /[\r\n]/.test(text)) throw new Error(`${what} is not one line of text: ${JSON.stringify(text)}`);
}

/** Keys that attack objects built from JSON rather than their values. */
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'a\nb', '\u0000', 'é', '😀'];

/** JSON-like values, hostile ones included: huge and tiny numbers, odd strings, prototype keys, deep nesting. */
export function hostileJson(): fc.Arbitrary<unknown> {
  const key = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
  const leaf = fc.oneof(
    fc.constantFrom(null, true, false, 0, -0, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -1, 0.5),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('', '-', '--help', '-rf', '../../etc/passwd', '\u0000', '\ud800', 'true', '1e999', '{}', 'x'.repeat(5000)),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
  }));
  return value;
}

/** `value` wrapped in `depth` arrays and objects, around the nesting limits. */
export function deeplyNested(depth: number, value: unknown = 1): unknown {
  let nested = value;
  for (let i = 0; i < depth; i++) nested = i % 2 === 0 ? [nested] : { a: nested };
  return nested;
}

/**
 * A read-only connection of its own to a SQLite file: what it holds, and whether anything was
 * committed to it since the last look (`PRAGMA data_version` changes with every other
 * connection's commit).
 */
export class StoreWatch {
  readonly #db: Database.Database;
  #version: number;

  constructor(file: string) {
    this.#db = new Database(file, { readonly: true, fileMustExist: true });
    this.#version = this.#dataVersion();
  }

  #dataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  /** Whether another connection committed since the last call (or since the watch began). */
  written(): boolean {
    const version = this.#dataVersion();
    const changed = version !== this.#version;
    this.#version = version;
    return changed;
  }

  /** The rows of `tables` (default: every table). */
  contents(tables?: string[]): Record<string, unknown[]> {
    const names = tables ?? (this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
    return Object.fromEntries(names.map((name) => [name, this.#db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()]));
  }

  close(): void {
    this.#db.close();
  }
}
