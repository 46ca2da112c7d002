import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decode } from 'ini';
import { CHILD_PATH } from '../runner/child-env.js';
import { checkExecutable, parseFlag, parseTimeout, toDefinition, type ParsedServiceFile } from './properties-file.js';
import { RUN_ID_TOKEN } from './run-id.js';
import type { ArgumentItem, LocalInputSpec, LocalOutputSpec } from './service-definition.js';
import { interpolate, type IniSection } from './wps-interpolation.js';
import { IGNORED_INPUT_KEYS, IGNORED_OUTPUT_KEYS, wpsInput, wpsOutput } from './wps-io.js';
import { parseLogging } from './wps-logging.js';
import { splitWords } from './wps-words.js';
import { fail, isJsonObject } from './validation.js';

/** Input action classes of WPS Remote that write files from inputs; Outpost runs none of them. */
const FILE_ACTIONS = ['copyfile', 'updateinifile', 'updateinifilelist', 'createjsonfile', 'updatejsonfile'];
const IGNORED_DEFAULTS: Record<string, string> = { process_weight: 'Outpost balances by slots and max_parallel' };

interface Ini {
  defaults: IniSection;
  sections: Map<string, IniSection>;
  /** A key's value with `%(name)s` references resolved (the run's id stands as RUN_ID_TOKEN). */
  get(section: string, key: string): string | undefined;
}

/**
 * Reads a WPS Remote `service.config` (README, Coming from WPS Remote): `[DEFAULT]` names the
 * service and its command, `[InputN]`/`[ConstN]` declare inputs and constants, `[ActionN]` of class
 * `cmdline` build the argument list, `[OutputN]` name the files read back, `[Logging]` says what
 * output lines mean. Sections are taken in name order, numbers compared as numbers. Relative paths
 * are read from the folder holding the file. Throws ServiceFileError.
 */
export async function readServiceConfig(dir: string, file: string, text: string): Promise<ParsedServiceFile> {
  const ini = parseIni(text);
  if (!parseFlag('active', ini.get('DEFAULT', 'active'), true)) return { status: 'inactive', file };
  const folder = path.dirname(path.join(dir, file));
  const notes: string[] = [];
  const words = await commandWords(folder, ini);
  const service = ini.get('DEFAULT', 'service');
  const namespace = ini.get('DEFAULT', 'namespace');
  const description = ini.get('DEFAULT', 'description');
  const definition = await toDefinition(folder, file, {
    ...(service !== undefined && { service }),
    ...(namespace && { namespace }),
    ...(description && { description }),
    executable: words[0]!,
  });
  const timeout = ini.get('DEFAULT', 'max_running_time_seconds');
  if (timeout) definition.timeoutSeconds = parseTimeout(timeout, 'max_running_time_seconds');
  const { inputs, consts } = readInputs(ini, notes);
  definition.inputs = inputs;
  definition.arguments = [...words.slice(1).map((word): ArgumentItem => ({ kind: 'word', word })), ...readActions(ini, inputs, consts)];
  // Values are passed as words of their own unless a template glues them to a name.
  definition.argFormat = '--{key} {value}';
  definition.outputs = readOutputs(ini, notes);
  const logging = ini.sections.get('Logging');
  if (logging) definition.lineRules = parseLogging(Object.fromEntries(Object.keys(logging).map((key) => [key, ini.get('Logging', key)!])));
  const runDir = perRunDir(folder, ini.get('DEFAULT', 'workdir'));
  if (runDir) definition.runDirs = [runDir];
  for (const [key, why] of Object.entries(IGNORED_DEFAULTS)) if (key in ini.defaults) notes.push(`key '${key}' is ignored: ${why}`);
  for (const name of ini.sections.keys()) if (!sectionKind(name)) notes.push(`section [${name}] is ignored`);
  return { status: 'valid', service: definition, ...(notes.length > 0 && { notes }) };
}

/**
 * The directory of `workdir` that belongs to one run: the first one whose name holds the run's
 * id (`/tmp/%(unique_exe_id)s/out` → `/tmp/<id>`). It is made before and removed after each
 * run, so it must stay a directory of its own once the path is normalised.
 */
function perRunDir(folder: string, workdir: string | undefined): string | undefined {
  if (!workdir?.includes(RUN_ID_TOKEN)) return undefined;
  const segments = path.resolve(folder, workdir).split(path.sep);
  const at = segments.findIndex((segment) => segment.includes(RUN_ID_TOKEN));
  if (at === -1) fail("[DEFAULT] workdir: the run's directory must keep %(unique_exe_id)s in its path (no '..' after it)");
  return segments.slice(0, at + 1).join(path.sep);
}

function parseIni(text: string): Ini {
  const decoded: Record<string, unknown> = decode(text);
  let defaults: IniSection = {};
  const sections = new Map<string, IniSection>();
  for (const [name, value] of Object.entries(decoded)) {
    if (!isJsonObject(value)) fail(`key '${name}' comes before any [section]`);
    const section = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
    if (name === 'DEFAULT') defaults = section;
    else sections.set(name, section);
  }
  const variables = { unique_exe_id: RUN_ID_TOKEN };
  // A section's own keys, as WPS Remote reads them; [DEFAULT] is seen through interpolation only.
  const get = (name: string, key: string): string | undefined => {
    const section = name === 'DEFAULT' ? defaults : (sections.get(name) ?? {});
    const value = Object.hasOwn(section, key) ? section[key] : undefined;
    return value === undefined ? undefined : interpolate(value, `[${name}] ${key}`, section, defaults, variables);
  };
  return { defaults, sections, get };
}

/** `executable_cmd` in words, its program found: relative to the folder, or on the child's PATH. */
async function commandWords(folder: string, ini: Ini): Promise<string[]> {
  let command = ini.get('DEFAULT', 'executable_cmd');
  if (!command) fail("missing required key 'executable_cmd' in [DEFAULT]");
  const executablePath = ini.get('DEFAULT', 'executable_path');
  // As WPS Remote does: a relative executable_path inside the command becomes absolute.
  if (executablePath && !path.isAbsolute(executablePath)) command = command.replaceAll(executablePath, path.resolve(folder, executablePath));
  const [program = '', ...rest] = splitWords('executable_cmd', command);
  if (program.includes('/')) return [await checkExecutable(folder, program), ...rest];
  for (const bin of CHILD_PATH.split(':')) {
    const candidate = path.join(bin, program);
    if (await fs.access(candidate, constants.X_OK).then(() => true, () => false)) return [candidate, ...rest];
  }
  return fail(`executable_cmd: program '${program}' is not found in ${CHILD_PATH}`);
}

function sectionKind(name: string): 'input' | 'action' | 'output' | 'logging' | undefined {
  const lower = name.toLowerCase();
  if (lower.includes('input') || lower.includes('const')) return 'input';
  if (lower.includes('action')) return 'action';
  if (lower.includes('output')) return 'output';
  return name === 'Logging' ? 'logging' : undefined;
}

function sectionsOf(ini: Ini, kind: string): [string, IniSection][] {
  return [...ini.sections].filter(([name]) => sectionKind(name) === kind).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
}

function readInputs(ini: Ini, notes: string[]): { inputs: Record<string, LocalInputSpec>; consts: Map<string, string> } {
  const inputs: Record<string, LocalInputSpec> = {};
  const consts = new Map<string, string>();
  for (const [section, keys] of sectionsOf(ini, 'input')) {
    const name = required(ini, section, 'name');
    const kind = required(ini, section, 'class');
    if (inputs[name] || consts.has(name)) fail(`[${section}]: '${name}' is declared twice`);
    if (kind === 'const') consts.set(name, required(ini, section, 'value'));
    else if (kind === 'param') {
      const ignored = Object.keys(keys).filter((key) => IGNORED_INPUT_KEYS.includes(key));
      if (ignored.length > 0) notes.push(`[${section}]: ${ignored.join(', ')} ignored`);
      // Text shown to people is taken as written, as WPS Remote announces it.
      inputs[name] = wpsInput(name, { type: keys['type'], title: keys['title'], description: keys['description'], default: keys['default'], min: keys['min'], max: keys['max'] }, notes);
    } else fail(`[${section}]: class '${kind}' is not one of param, const`);
  }
  return { inputs, consts };
}

/** `cmdline` actions: `name` in the template is the alias (or input name), `value` the value. */
function readActions(ini: Ini, inputs: Record<string, LocalInputSpec>, consts: Map<string, string>): ArgumentItem[] {
  return sectionsOf(ini, 'action').flatMap(([section]): ArgumentItem[] => {
    const kind = required(ini, section, 'class');
    if (FILE_ACTIONS.includes(kind.replaceAll('_', '').toLowerCase())) {
      fail(`[${section}]: action class '${kind}' is not run by Outpost (it writes files from inputs; pass the value on the command line with class cmdline)`);
    }
    if (kind !== 'cmdline') fail(`[${section}]: action class '${kind}' is not one of cmdline`);
    const ref = required(ini, section, 'input_ref');
    const template = required(ini, section, 'template');
    if (!/name|value/.test(template)) fail(`[${section}]: template '${template}' names neither name nor value`);
    const name = ini.get(section, 'alias') ?? ref;
    const constant = consts.get(ref);
    if (constant !== undefined) return splitWords('template', fill(template, name, constant)).map((word) => ({ kind: 'word', word }));
    if (!inputs[ref]) fail(`[${section}]: input_ref '${ref}' names no [Input] or [Const] section`);
    return [{ kind: 'input', input: ref, template: splitWords('template', fill(template, name, '{value}')) }];
  });
}

function fill(template: string, name: string, value: string): string {
  return template.replace(/name|value/g, (word) => (word === 'name' ? name : value));
}

function readOutputs(ini: Ini, notes: string[]): Record<string, LocalOutputSpec> {
  const outputs: Record<string, LocalOutputSpec> = {};
  for (const [section, keys] of sectionsOf(ini, 'output')) {
    const name = required(ini, section, 'name');
    if (outputs[name]) fail(`[${section}]: output '${name}' is declared twice`);
    const ignored = Object.keys(keys).filter((key) => IGNORED_OUTPUT_KEYS.includes(key));
    if (ignored.length > 0) notes.push(`[${section}]: ${ignored.join(', ')} ignored (Outpost returns the file; it publishes no layers and uploads nowhere else)`);
    const fields = { type: keys['type'], title: keys['title'], description: keys['description'], output_mime_type: keys['output_mime_type'] };
    outputs[name] = wpsOutput(name, fields, required(ini, section, 'filepath'), true);
  }
  if (Object.keys(outputs).length === 0) fail('a service.config must declare at least one [Output] section');
  return outputs;
}

function required(ini: Ini, section: string, key: string): string {
  const value = ini.get(section, key);
  if (!value) fail(`[${section}]: missing '${key}'`);
  return value;
}
