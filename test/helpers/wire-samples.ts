import fc from 'fast-check';
import { loadToAttrs, type AgentMessage, type OrchestratorMessage, type ProcessSpec } from '../../protocol/index.js';
import { HOSTILE_KEYS, deeplyNested, hostileJson } from './fuzz.js';

const PROCESS: ProcessSpec = {
  id: 'echo',
  keywords: ['text'],
  version: '1.0.0',
  inputs: { message: { type: 'string', maxLength: 100 }, count: { type: 'integer', minimum: 0, default: 1 } },
  outputs: { result: { type: 'string' }, report: { type: 'file', mediaType: 'text/csv' } },
  maxParallel: 2,
  file: 'echo.properties',
};

/** One valid message of every type an agent sends (docs/protocol.md §4.1). */
export const AGENT_MESSAGES: AgentMessage[] = [
  { v: 1, type: 'catalog', hash: 'h1', part: 1, parts: 1, processes: [PROCESS], invalid: [{ file: 'bad.properties', reason: 'no executable' }] },
  { v: 1, type: 'accepted', job: 'job-1', seq: 1 },
  { v: 1, type: 'rejected', job: 'job-1', reason: 'busy', message: 'all slots are taken' },
  { v: 1, type: 'progress', job: 'job-1', seq: 2, progress: 50, message: 'half way' },
  { v: 1, type: 'completed', job: 'job-1', seq: 3, outputs: { result: { value: 'hi' }, report: { href: '/uploads/job-1/report', mediaType: 'text/csv', size: 3, sha256: 'a'.repeat(64) } } },
  { v: 1, type: 'failed', job: 'job-1', seq: 3, code: 'exit', message: 'exited with code 2', exitCode: 2, stderr: 'oops' },
  { v: 1, type: 'killed', job: 'job-1', seq: 3, signal: 'SIGTERM' },
  { v: 1, type: 'jobs', jobs: [{ job: 'job-1', process: 'echo', seq: 2 }] },
  { v: 1, type: 'error', job: 'job-1', code: 'unknown-job', message: 'no such job' },
];

/** One valid message of every type the orchestrator sends (docs/protocol.md §4.2). */
export const ORCHESTRATOR_MESSAGES: OrchestratorMessage[] = [
  { v: 1, type: 'execute', job: 'job-1', process: 'echo', inputs: { message: 'hi' }, deadline: '2030-01-01T00:00:00Z', upload: { url: 'https://o.example/uploads/job-1', token: 't' } },
  { v: 1, type: 'kill', job: 'job-1' },
  { v: 1, type: 'ack', job: 'job-1', seq: 3 },
  { v: 1, type: 'acks', acks: [{ job: 'job-1', seq: 3 }, { job: 'job-2', seq: 1 }] },
  { v: 1, type: 'catalog-request' },
  { v: 1, type: 'error', code: 'invalid-message', message: 'body is not JSON' },
];

/** Every JSON pointer into `value`, as key paths. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([key, member]) => pathsOf(member, [...prefix, key]))];
}

type Mutation = { path: string[]; key: string; value: unknown; remove: boolean };

/** `message` with, at one place, a member removed, replaced, or added under a hostile key. */
function mutate(message: object, mutations: Mutation[]): unknown {
  const copy = structuredClone(message) as Record<string, unknown>;
  for (const { path, key, value, remove } of mutations) {
    let target: unknown = copy;
    for (const step of path) target = (target as Record<string, unknown>)?.[step];
    if (typeof target !== 'object' || target === null) continue;
    const members = Object.keys(target);
    const name = members.length > 0 && !HOSTILE_KEYS.includes(key) ? members[key.length % members.length]! : key;
    if (remove) delete (target as Record<string, unknown>)[name];
    else Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
  }
  return copy;
}

/** Valid messages with a few mutations each: near misses that probe every member of every type. */
function mutatedMessages(valid: object[]): fc.Arbitrary<unknown> {
  return fc.constantFrom(...valid).chain((message) => {
    const mutation = fc.record({
      path: fc.constantFrom(...pathsOf(message)),
      key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 6 })),
      value: hostileJson(),
      remove: fc.boolean(),
    });
    return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => mutate(message, mutations));
  });
}

/** Message bodies as an attacker might send them: text, JSON of any shape, and near-valid messages. */
export function messageBodies(valid: object[]): fc.Arbitrary<string> {
  const types = valid.map((message) => (message as { type: string }).type);
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    hostileJson().map((value) => JSON.stringify(value) ?? 'null'),
    fc.record({ v: fc.constantFrom(1, 2, '1', null), type: fc.constantFrom(...types), extra: fc.dictionary(fc.constantFrom(...HOSTILE_KEYS), hostileJson()) }).map(({ extra, ...head }) =>
      JSON.stringify({ ...head, ...extra }),
    ),
    fc.integer({ min: 28, max: 40 }).map((depth) => JSON.stringify({ ...valid[0], processes: deeplyNested(depth) })),
    mutatedMessages(valid).map((message) => JSON.stringify(message)),
    mutatedMessages(valid).map((message) => JSON.stringify(message).slice(0, -1)),
  );
}

const VALID_LOAD = loadToAttrs({ slots: 2, running: 0, load1: 0.5, cores: 2, memFree: 1e9, catalog: 'h1', draining: false, features: ['acks'] });
const NUMBER_TEXT = ['0', '-1', '1.5', '1e308', '1e309', 'NaN', 'Infinity', '0x10', ' 2 ', '', '9007199254740993', '2e0'];

/** Attributes of the presence `<agent/>` element: the valid set, with members removed or replaced. */
export function presenceAttributes(): fc.Arbitrary<Record<string, string>> {
  const names = [...Object.keys(VALID_LOAD), 'draining'];
  const value = fc.oneof(fc.constantFrom(...NUMBER_TEXT), fc.string({ unit: 'binary', maxLength: 30 }));
  return fc
    .record({
      removed: fc.subarray(names),
      replaced: fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.constantFrom(...HOSTILE_KEYS)), value, { maxKeys: 4 }),
    })
    .map(({ removed, replaced }) => {
      const attrs: Record<string, string> = { ...VALID_LOAD };
      for (const name of removed) delete attrs[name];
      // Only names XML allows, so that the element can be sent as it is.
      for (const [name, text] of Object.entries(replaced)) {
        if (/^[A-Za-z_][\w-]*$/.test(name)) Object.defineProperty(attrs, name, { value: text, enumerable: true, configurable: true, writable: true });
      }
      return attrs;
    });
}
