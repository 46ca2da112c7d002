import { checkOptionSafety } from './option-safety.js';
import { isKey, parseFlag, toDefinition, type ParsedServiceFile, type Properties } from './properties-file.js';
import type { ArgFormat, LocalInputSpec, LocalOutputSpec } from './service-definition.js';
import { splitWords } from './wps-words.js';
import { IGNORED_INPUT_KEYS, IGNORED_OUTPUT_KEYS, wpsInput, wpsOutput, type WpsInputFields, type WpsOutputFields } from './wps-io.js';
import { fail, parseJsonObject, type JsonObject } from './validation.js';

/** Keys of WPS Remote's flat form that do not apply to Outpost, and why; read and listed as notes. */
const IGNORED_KEYS: Record<string, string> = {
  process_buffer: 'Outpost runs as many at once as the agent has slots (max_parallel)',
  result_size: 'results are sent whatever their size, within the upload limit',
  debug: 'the agent logs at its own --log-level',
};
/** Native keys that hold JSON objects; any other key with a JSON object value declares an input or output. */
const NATIVE_JSON_KEYS = ['inputs', 'outputs', 'env'];
const ARG_FORMATS: Record<string, ArgFormat> = {
  '--key=value': '--{key}={value}',
  '--key value': '--{key} {value}',
  '-key value': '-{key} {value}',
};
const INPUT_FIELDS = ['type', 'title', 'description', 'enum', 'default', 'min', 'max'];
const OUTPUT_FIELDS = ['type', 'title', 'description', 'filepath', 'output_mime_type'];
const ENTRY = /^([^=:\s]+)\s*[=:]\s*(.*)$/;
const TRAILING_BACKSLASH = /(?:^|[^\\])(?:\\\\)*\\$/;

/**
 * Whether a `.properties` file is in WPS Remote's flat form (README, Coming from WPS Remote): it
 * sets a key only that form has (`process_buffer`, `result_size`, `debug`), or gives a key of its
 * own a JSON object (`name = {"type": "string"}`). Such files keep backslashes as written.
 */
export function isWpsFlatFile(text: string): boolean {
  let continued = false;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    // A native file's value goes on after a line ending in an odd number of backslashes.
    const continuation: boolean = continued;
    const comment: boolean = !continuation && (line.startsWith('#') || line.startsWith('!'));
    continued = !comment && TRAILING_BACKSLASH.test(line);
    if (continuation || comment) continue;
    const [, key = '', value = ''] = ENTRY.exec(line) ?? [];
    if (Object.hasOwn(IGNORED_KEYS, key) || (value.startsWith('{') && !isKey(key))) return true;
  }
  return false;
}

/**
 * Reads a flat WPS Remote file: the native keys it shares with `.properties` files, one JSON
 * object per input and per output, and keys that do not apply, which are listed as notes.
 * An entry with `min`, `max`, `default` or `enum` is an input, one without is an output (in
 * WPS Remote's own announcements inputs always carry `min` and `max`); `outputs = a, b` names
 * the outputs instead. Throws ServiceFileError.
 */
export async function readWpsFlatFile(dir: string, file: string, text: string): Promise<ParsedServiceFile> {
  const notes: string[] = [];
  const properties: Properties = {};
  const declarations = new Map<string, JsonObject>();
  let outputNames: string[] | undefined;
  for (const { key, value } of entries(text)) {
    if (Object.hasOwn(IGNORED_KEYS, key)) notes.push(`key '${key}' is ignored: ${IGNORED_KEYS[key]}`);
    else if (key === 'outputs' && !value.startsWith('{')) outputNames = value.split(',').map((name) => name.trim()).filter(Boolean);
    else if (NATIVE_JSON_KEYS.includes(key) && key !== 'env') fail(`'${key}' does not apply to a WPS Remote file: declare each ${key.slice(0, -1)} as a key of its own`);
    else if (isKey(key)) properties[key] = value;
    else if (value.startsWith('{')) declarations.set(key, parseJsonObject(key, value));
    else fail(`unknown key '${key}'`);
  }
  if (!parseFlag('active', properties.active, true)) return { status: 'inactive', file };
  const { customargs, argformat, ...rest } = properties;
  const definition = await toDefinition(dir, file, { ...rest, ...(argformat && { argformat: argFormat(argformat) }) });
  definition.customArgs = customargs ? splitWords('customargs', customargs) : [];
  const { inputs, outputs } = inputsAndOutputs(declarations, outputNames, notes);
  definition.inputs = inputs;
  definition.outputs = outputs;
  checkOptionSafety(definition);
  return { status: 'valid', service: definition, ...(notes.length > 0 && { notes }) };
}

/** `key = value` lines; `#` and `!` start comments; a JSON value goes on until its braces close. */
function entries(text: string): { key: string; value: string }[] {
  const lines = text.split(/\r\n|\n|\r/);
  const found: { key: string; value: string }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const match = ENTRY.exec(line);
    if (!match) fail(`line ${i + 1}: expected 'key = value'`);
    const [, key = '', first = ''] = match;
    let value = first.trim();
    const start = i;
    while (value.startsWith('{') && !bracesClosed(value)) {
      if (++i === lines.length) fail(`'${key}' (line ${start + 1}): its JSON value never closes`);
      value += `\n${lines[i]!.trim()}`;
    }
    if (seen.has(key)) fail(`key '${key}' is set more than once`);
    seen.add(key);
    found.push({ key, value });
  }
  return found;
}

/** Whether every `{` outside JSON strings has its `}`. */
function bracesClosed(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return depth <= 0;
}

function argFormat(value: string): string {
  return ARG_FORMATS[value] ?? value;
}

function inputsAndOutputs(
  declarations: Map<string, JsonObject>,
  outputNames: string[] | undefined,
  notes: string[],
): { inputs: Record<string, LocalInputSpec>; outputs: Record<string, LocalOutputSpec> } {
  for (const name of outputNames ?? []) if (!declarations.has(name)) fail(`'outputs' names '${name}', which is not declared`);
  const isOutput = (name: string, fields: JsonObject) =>
    outputNames ? outputNames.includes(name) : !['min', 'max', 'default', 'enum'].some((key) => key in fields);
  const inputs: Record<string, LocalInputSpec> = {};
  const outputs: Record<string, LocalOutputSpec> = {};
  for (const [name, fields] of declarations) {
    if (isOutput(name, fields)) {
      noteIgnored(`output '${name}'`, fields, OUTPUT_FIELDS, IGNORED_OUTPUT_KEYS, notes);
      const filepath = fields['filepath'] ?? name;
      if (typeof filepath !== 'string') fail(`output '${name}': 'filepath' must be a string`);
      outputs[name] = wpsOutput(name, fields as WpsOutputFields, filepath, false);
    } else {
      noteIgnored(`input '${name}'`, fields, INPUT_FIELDS, IGNORED_INPUT_KEYS, notes);
      inputs[name] = wpsInput(name, fields as WpsInputFields, notes);
    }
  }
  if (Object.keys(outputs).length === 0) fail('a WPS Remote file must declare at least one output');
  return { inputs, outputs };
}

function noteIgnored(subject: string, fields: JsonObject, known: string[], ignored: string[], notes: string[]): void {
  for (const key of Object.keys(fields)) {
    if (known.includes(key)) continue;
    notes.push(`${subject}: '${key}' is ignored${ignored.includes(key) ? ' (no use in Outpost)' : ''}`);
  }
}
