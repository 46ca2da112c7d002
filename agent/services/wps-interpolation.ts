import { fail } from './validation.js';

export type IniSection = Record<string, string>;

/** Python's limit on nested references (configparser.MAX_INTERPOLATION_DEPTH). */
const MAX_DEPTH = 10;
const REFERENCE = /^%\(([^)]+)\)s/;

/**
 * `%(name)s` interpolation as Python's configparser.BasicInterpolation does it, which WPS Remote
 * files are written for: a reference is looked up in the value's own section, then in
 * `[DEFAULT]`, then among `variables` (values Outpost provides, such as `unique_exe_id`), and is
 * itself interpolated; `%%` is a literal `%`. Any other `%` is kept as written: Python refuses it,
 * but WPS Remote's own parser leaves values without `%(` alone, and its sample `[Logging]`
 * regexes (`ProgressInfo\:(…)\%`) depend on that.
 */
export function interpolate(value: string, where: string, section: IniSection, defaults: IniSection, variables: IniSection, depth = 0): string {
  if (depth > MAX_DEPTH) fail(`${where}: references nest more than ${MAX_DEPTH} deep`);
  let out = '';
  let i = 0;
  for (let at = value.indexOf('%'); at !== -1; at = value.indexOf('%', i)) {
    out += value.slice(i, at);
    if (value[at + 1] === '%') {
      out += '%';
      i = at + 2;
      continue;
    }
    const reference = REFERENCE.exec(value.slice(at));
    if (!reference) {
      if (value[at + 1] === '(') fail(`${where}: a reference must be written %(name)s`);
      out += '%';
      i = at + 1;
      continue;
    }
    const name = reference[1]!;
    const raw = lookup(name, section, defaults, variables);
    if (raw === undefined) fail(`${where}: '%(${name})s' refers to a key that is not set`);
    out += interpolate(raw, where, section, defaults, variables, depth + 1);
    i = at + reference[0].length;
  }
  return out + value.slice(i);
}

function lookup(name: string, ...scopes: IniSection[]): string | undefined {
  for (const scope of scopes) if (Object.hasOwn(scope, name)) return scope[name];
  return undefined;
}
