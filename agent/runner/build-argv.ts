import { optionLikeProblem } from '../services/option-safety.js';
import type { ServiceDefinition } from '../services/service-definition.js';

type Scalar = string | number | boolean;

export type ArgvResult = { ok: true; args: string[]; stdin?: string } | { ok: false; message: string };

/**
 * Turns a run's inputs into the program's arguments (or its stdin text for `stdin-json`).
 * Values are passed as literal words: nothing here is ever seen by a shell.
 */
export function buildArgv(
  service: Pick<ServiceDefinition, 'customArgs' | 'argFormat' | 'endOfOptions' | 'inputs' | 'arguments'>,
  inputs: Record<string, unknown>,
): ArgvResult {
  for (const name of Object.keys(inputs)) {
    if (!Object.hasOwn(service.inputs, name)) return { ok: false, message: `unknown input '${name}'` };
  }
  const values = new Map<string, Scalar | undefined>();
  for (const [name, spec] of Object.entries(service.inputs)) {
    const given = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    const value = given === undefined ? spec.default : given;
    if (value === undefined) {
      if (spec.required !== false) return { ok: false, message: `input '${name}' is required` };
    } else if (!isScalar(value)) {
      return { ok: false, message: `input '${name}' must be a string, number or boolean` };
    } else if (service.argFormat !== 'stdin-json' && typeof value === 'string' && value.includes('\0')) {
      // The kernel ends an argument at NUL, so the program would see a different value.
      return { ok: false, message: `input '${name}' must not contain a NUL character` };
    }
    // The orchestrator refuses these too; this holds for any caller of the agent.
    const optionLike = optionLikeProblem(service, name, spec, value);
    if (optionLike) return { ok: false, message: optionLike };
    values.set(name, value);
  }
  if (service.arguments) return { ok: true, args: argumentWords(service.arguments, values) };
  const args = formatArgs(service.argFormat, values);
  // `--` ends the options (POSIX utility syntax guideline 10), so what follows is never one.
  if (service.endOfOptions && args.length > 0) args.unshift('--');
  return { ok: true, args: [...service.customArgs, ...args], ...stdinOf(service.argFormat, values) };
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function formatArgs(format: ServiceDefinition['argFormat'], values: Map<string, Scalar | undefined>): string[] {
  if (format === 'stdin-json') return [];
  // Absent optional inputs keep their slot in positional form so later positions stay stable.
  if (format === 'positional') return [...values.values()].map((value) => (value === undefined ? '' : String(value)));
  const args: string[] = [];
  for (const [name, value] of values) {
    if (value === undefined) continue;
    if (format === '--{key}={value}') args.push(`--${name}=${String(value)}`);
    else args.push(format === '--{key} {value}' ? `--${name}` : `-${name}`, String(value));
  }
  return args;
}

/** The argument list a service spells out: fixed words, and each given input's template words. */
function argumentWords(items: NonNullable<ServiceDefinition['arguments']>, values: Map<string, Scalar | undefined>): string[] {
  return items.flatMap((item) => {
    if (item.kind === 'word') return [item.word];
    const value = values.get(item.input);
    return value === undefined ? [] : item.template.map((word) => word.replaceAll('{value}', String(value)));
  });
}

function stdinOf(format: ServiceDefinition['argFormat'], values: Map<string, Scalar | undefined>): { stdin?: string } {
  if (format !== 'stdin-json') return {};
  // fromEntries defines own properties, so even an input named `__proto__` is kept.
  const object = Object.fromEntries([...values].filter(([, value]) => value !== undefined));
  return { stdin: `${JSON.stringify(object)}\n` };
}
