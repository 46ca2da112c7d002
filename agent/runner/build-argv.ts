import { DEFAULT_BBOX_CRS, isArrayInput } from '../../protocol/index.js';
import { BBOX_PARTS, VALUE, argumentsOf } from '../services/argument-list.js';
import { shapeProblem, valuesOf, type BoundingBox } from '../services/input-values.js';
import { optionLikeProblem } from '../services/option-safety.js';
import type { ArgumentItem, LocalInputSpec, ServiceDefinition } from '../services/service-definition.js';

/** A file the run needs in its work directory before the program starts: a JSON object input. */
export interface InputFile {
  /** Relative to the work directory, which is the program's working directory. */
  name: string;
  content: string;
}

export type ArgvResult = { ok: true; args: string[]; stdin?: string; files?: InputFile[] } | { ok: false; message: string };

type Shape = Pick<ServiceDefinition, 'arguments' | 'customArgs' | 'argFormat' | 'endOfOptions' | 'inputs' | 'stdinInput'>;

/**
 * Turns a run's inputs into the program's arguments (README, Publish a program), its stdin text
 * (`stdin-json`, or an input read from stdin), and the files of its JSON object inputs.
 * Values are passed as literal words: nothing here is ever seen by a shell.
 */
export function buildArgv(service: Shape, inputs: Record<string, unknown>): ArgvResult {
  for (const name of Object.keys(inputs)) {
    if (!Object.hasOwn(service.inputs, name)) return { ok: false, message: `unknown input '${name}'` };
  }
  const items = argumentsOf(service);
  const onCommandLine = new Set(items.flatMap((item) => (item.kind === 'input' ? [item.input] : [])));
  const values = new Map<string, unknown>();
  for (const [name, spec] of Object.entries(service.inputs)) {
    const given = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    const value = given === undefined ? spec.default : given;
    if (value === undefined) {
      if (spec.required !== false) return { ok: false, message: `input '${name}' is required` };
      continue;
    }
    const problem = valueProblem(service, name, spec, value, onCommandLine.has(name));
    if (problem) return { ok: false, message: problem };
    values.set(name, isArrayInput(spec) ? valuesOf(spec, value) : value);
  }
  const files: InputFile[] = [];
  const args = items.flatMap((item) => (item.kind === 'word' ? [item.word] : inputWords(item, service.inputs[item.input], values.get(item.input), files)));
  return { ok: true, args, ...stdinOf(service, values), ...(files.length === 0 ? {} : { files }) };
}

/** Why the agent refuses this value (the orchestrator refuses it too; this holds for any caller). */
function valueProblem(service: Shape, name: string, spec: LocalInputSpec, value: unknown, onCommandLine: boolean): string | undefined {
  const shape = shapeProblem(spec, value);
  if (shape) return `input '${name}' ${shape}`;
  for (const item of valuesOf(spec, value)) {
    // The kernel ends an argument at NUL, so the program would see a different value.
    if (onCommandLine && typeof item === 'string' && item.includes('\0')) return `input '${name}' must not contain a NUL character`;
    const optionLike = optionLikeProblem(service, name, spec, item);
    if (optionLike) return optionLike;
  }
  return undefined;
}

/**
 * The words of one input item. Per value: each template word with `{value}` replaced; a boolean
 * whose template has no `{value}` gives its words when true, nothing when false; a bounding box
 * gives four words where a word is exactly `{value}`, else `minx,miny,maxx,maxy`, and `{minx}`,
 * `{miny}`, `{maxx}`, `{maxy}`, `{crs}` its parts (`-projwin {minx} {maxy} {maxx} {miny}`); a JSON object is written to a file whose name is the value. An absent input gives nothing.
 */
function inputWords(item: Extract<ArgumentItem, { kind: 'input' }>, spec: LocalInputSpec | undefined, value: unknown, files: InputFile[]): string[] {
  if (value === undefined || !spec) return [];
  const fill = (text: string) => item.template.map((word) => word.replaceAll(VALUE, text));
  switch (spec.type) {
    case 'boolean':
      return item.template.some((word) => word.includes(VALUE)) ? fill(String(value)) : value === true ? item.template : [];
    case 'bbox': {
      const { bbox, crs = spec.crs?.[0] ?? DEFAULT_BBOX_CRS } = value as BoundingBox;
      const corners = bbox.map(String);
      const named = (word: string) => BBOX_PARTS.reduce((text, part, i) => text.replaceAll(part, corners[i]!), word.replaceAll('{crs}', crs));
      return item.template.flatMap((word) => (word === VALUE ? corners : [named(word.replaceAll(VALUE, corners.join(',')))]));
    }
    case 'object': {
      const name = `input-${item.input}.json`;
      files.push({ name, content: `${JSON.stringify(value)}\n` });
      return fill(name);
    }
  }
  if (!Array.isArray(value)) return fill(String(value));
  if (item.separator !== undefined) return fill(value.map(String).join(item.separator));
  return value.flatMap((one) => fill(String(one)));
}

function stdinOf(service: Shape, values: Map<string, unknown>): { stdin?: string } {
  if (service.arguments === undefined && service.argFormat === 'stdin-json') {
    // fromEntries defines own properties, so even an input named `__proto__` is kept.
    return { stdin: `${JSON.stringify(Object.fromEntries(values))}\n` };
  }
  const value = service.stdinInput === undefined ? undefined : values.get(service.stdinInput);
  if (value === undefined) return {};
  return { stdin: typeof value === 'string' ? value : `${JSON.stringify(value)}\n` };
}
