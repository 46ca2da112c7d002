import { isArrayInput, type InputSpec } from '../../protocol/index.js';
import { splitCustomArgs } from './custom-args.js';
import type { ArgFormat, ArgumentItem, LocalInputSpec, ServiceDefinition } from './service-definition.js';
import { fail } from './validation.js';

/** Where an input of a native service file goes, when its declaration says (README, Publish a program). */
export interface InputPlacement {
  /** `arg`, split into words: the words each value becomes. */
  template?: string[];
  /** `separator`: an array input's values joined into one value. */
  separator?: string;
  /** `stdin: true`: the value is the program's standard input. */
  stdin?: true;
}

/** The placeholder for an input's value inside a template word. */
export const VALUE = '{value}';
/** A bounding box's corners by name, in the order of its `bbox` array (OGC 18-062r2 `bbox.yaml`). */
export const BBOX_PARTS = ['{minx}', '{miny}', '{maxx}', '{maxy}'] as const;
// A `customargs` word that stands for an input: `{name}`.
const PLACEHOLDER = /^\{([A-Za-z0-9_.-]+)\}$/;

type ArgumentShape = Pick<ServiceDefinition, 'arguments' | 'argFormat' | 'customArgs' | 'endOfOptions' | 'inputs'>;

/** Reads the members `arg`, `separator` and `stdin` of an input declaration; undefined when it has none. */
export function parsePlacement(subject: string, spec: InputSpec, members: Record<'arg' | 'separator' | 'stdin', unknown>): InputPlacement | undefined {
  const { arg, separator, stdin } = members;
  if (arg === undefined && separator === undefined && stdin === undefined) return undefined;
  const placement: InputPlacement = {};
  if (stdin !== undefined && stdin !== true && stdin !== false) fail(`${subject}: stdin must be true or false`);
  if (stdin === true) {
    if (spec.type !== 'string' && spec.type !== 'object') fail(`${subject}: stdin only applies to string and object inputs`);
    if (isArrayInput(spec)) fail(`${subject}: an input read from stdin takes one value (maxOccurs 1)`);
    if (arg !== undefined) fail(`${subject}: an input read from stdin takes no arg`);
    placement.stdin = true;
  }
  if (arg !== undefined) {
    if (typeof arg !== 'string' || arg.trim() === '') fail(`${subject}: arg must be the words the value becomes, like "-z {value}"`);
    const template = splitCustomArgs(arg, `${subject}: arg`);
    const placeholders = spec.type === 'bbox' ? [VALUE, ...BBOX_PARTS] : [VALUE];
    if (spec.type !== 'boolean' && !template.some((word) => placeholders.some((placeholder) => word.includes(placeholder)))) {
      fail(`${subject}: arg must contain ${placeholders.join(' or ')}`);
    }
    placement.template = template;
  }
  if (separator !== undefined) {
    if (typeof separator !== 'string') fail(`${subject}: separator must be a string`);
    if (!isArrayInput(spec)) fail(`${subject}: separator only applies to inputs with maxOccurs above 1`);
    placement.separator = separator;
  }
  return placement;
}

/**
 * The argument list of a native file whose inputs say where they go (`arg`, `stdin`, or a
 * `{name}` word in `customargs`): the words of `customargs`, each `{name}` replaced by input
 * `name`, then the other inputs in declaration order. An input without `arg` is formatted by
 * `argformat`, or is its bare value where `customargs` places it. Empty when nothing asks for it.
 */
export function nativeArgumentList(
  service: Pick<ServiceDefinition, 'customArgs' | 'argFormat' | 'endOfOptions' | 'inputs'>,
  placements: Record<string, InputPlacement>,
): Pick<ServiceDefinition, 'arguments' | 'stdinInput'> {
  const placed = service.customArgs.filter((word) => PLACEHOLDER.test(word));
  if (placed.length === 0 && Object.keys(placements).length === 0) return {};
  if (service.argFormat === 'stdin-json') fail("'argformat' stdin-json does not apply when inputs say where they go (arg, stdin, or {input} in 'customargs')");
  if (service.endOfOptions) fail("'endofoptions' does not apply when inputs say where they go; write -- in 'customargs' instead");
  const stdinInputs = Object.keys(placements).filter((name) => placements[name]!.stdin);
  if (stdinInputs.length > 1) fail(`only one input can be read from stdin, not ${stdinInputs.join(' and ')}`);
  const item = (name: string, template: string[]): ArgumentItem => {
    const { separator } = placements[name] ?? {};
    return { kind: 'input', input: name, template: placements[name]?.template ?? template, ...(separator === undefined ? {} : { separator }) };
  };
  const seen = new Set<string>(stdinInputs);
  const list: ArgumentItem[] = service.customArgs.map((word) => {
    const name = PLACEHOLDER.exec(word)?.[1];
    if (name === undefined) return { kind: 'word', word };
    if (!Object.hasOwn(service.inputs, name)) fail(`'customargs' names no input ${word}`);
    if (seen.has(name)) fail(`'customargs' places input '${name}' ${stdinInputs.includes(name) ? 'that is read from stdin' : 'twice'}`);
    seen.add(name);
    return item(name, [VALUE]);
  });
  for (const name of Object.keys(service.inputs)) {
    if (!seen.has(name)) list.push(item(name, formatTemplate(service.argFormat, name)));
  }
  return { arguments: list, ...(stdinInputs.length === 0 ? {} : { stdinInput: stdinInputs[0] }) };
}

/**
 * The arguments a service's runs are built from: its own list, or the one `argformat` implies
 * (`customargs`, then `--` with `endofoptions`, then every input in declaration order).
 */
export function argumentsOf(service: ArgumentShape): ArgumentItem[] {
  if (service.arguments) return service.arguments;
  const words: ArgumentItem[] = service.customArgs.map((word) => ({ kind: 'word', word }));
  const names = Object.keys(service.inputs);
  const format = service.argFormat;
  if (format === 'stdin-json') return words;
  // `--` ends the options (POSIX utility syntax guideline 10), so what follows is never one.
  if (service.endOfOptions && names.length > 0) words.push({ kind: 'word', word: '--' });
  return [...words, ...names.map((name): ArgumentItem => ({ kind: 'input', input: name, template: formatTemplate(format, name) }))];
}

function formatTemplate(format: Exclude<ArgFormat, 'stdin-json'>, name: string): string[] {
  switch (format) {
    case '--{key}={value}':
      return [`--${name}=${VALUE}`];
    case '--{key} {value}':
      return [`--${name}`, VALUE];
    case '-{key} {value}':
      return [`-${name}`, VALUE];
    case 'positional':
      return [VALUE];
  }
}

/**
 * True when no value of input `name` can start an argument of its own where a program looks for
 * options: each of its words has something before `{value}`, a `--` comes before it, or it is
 * not on the command line at all.
 */
export function valueNeverStartsOption(service: ArgumentShape, name: string): boolean {
  for (const item of argumentsOf(service)) {
    if (item.kind === 'word' && item.word === '--') return true;
    if (item.kind === 'input' && item.input === name) return item.template.every((word) => !word.startsWith(VALUE));
  }
  return true;
}

/**
 * A positional input (its template is the bare value) that may be left out must come after the
 * other positional inputs: absent, it adds no argument, and a later value would take its place.
 * An array input is exempt; the program counts its values.
 */
export function checkPositions(list: ArgumentItem[], inputs: Record<string, LocalInputSpec>): void {
  let skippable: string | undefined;
  for (const item of list) {
    if (item.kind !== 'input' || item.template.length !== 1 || item.template[0] !== VALUE) continue;
    if (skippable) fail(`input '${skippable}' may be left out, so it must not come before positional input '${item.input}' (give it a default, or an option word)`);
    const spec = inputs[item.input];
    if (spec && spec.required === false && spec.default === undefined && !isArrayInput(spec)) skippable = item.input;
  }
}
