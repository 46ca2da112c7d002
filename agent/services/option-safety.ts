import { optionLikeRefusal, type InputSpec } from '../../protocol/index.js';
import { valueNeverStartsOption } from './argument-list.js';
import type { LocalInputSpec, ServiceDefinition } from './service-definition.js';
import { fail } from './validation.js';

type ArgumentShape = Pick<ServiceDefinition, 'arguments' | 'argFormat' | 'customArgs' | 'endOfOptions' | 'inputs'>;

/**
 * True when a string value of input `name` may start with '-'. Passed as an argument of its own
 * (`positional`, the value word of `--{key} {value}` / `-{key} {value}`, an `arg` word that starts
 * with `{value}`), such a value would be read by the program as an option: `--output=/etc/passwd`
 * given to `sort`. Inside `--{key}={value}` or the JSON on stdin it is only a value; after a `--` too.
 */
export function dashAllowed(service: ArgumentShape, name: string, spec: Pick<LocalInputSpec, 'allowDash'>): boolean {
  return spec.allowDash === true || valueNeverStartsOption(service, name);
}

/** Why a value of input `name` is refused as an option, or undefined when it is not. */
export function optionLikeProblem(service: ArgumentShape, name: string, spec: LocalInputSpec, value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('-') || dashAllowed(service, name, spec)) return undefined;
  return optionLikeRefusal(name);
}

/**
 * Checks what a service file says about options: `endofoptions` only with `positional` (before
 * `--{key} {value}` words a `--` would turn the option names into operands), and no default or
 * enum value that the rule above refuses (every run using it would be refused), unless
 * `allowDash` says the program is meant to read it as an option.
 */
export function checkOptionSafety(service: ArgumentShape): void {
  if (service.endOfOptions && service.argFormat !== 'positional') fail("'endofoptions' only applies to argformat positional");
  for (const [name, spec] of Object.entries(service.inputs)) {
    if (dashAllowed(service, name, spec)) continue;
    const dashed = [...[spec.default].flat(), ...(spec.enum ?? [])].find((value) => typeof value === 'string' && value.startsWith('-'));
    if (dashed !== undefined) {
      fail(`input '${name}': ${JSON.stringify(dashed)} starts with '-', so it would be refused (set "allowDash": true if the program should read it as an option)`);
    }
  }
}

/**
 * The wire form of an input: `allowDash` as this agent applies it, so the orchestrator refuses
 * what the agent would; path confinement stays on the agent (docs/protocol.md, InputSpec).
 */
export function publishedInput(service: ArgumentShape, name: string, spec: LocalInputSpec): InputSpec {
  const { within: _within, allowUrls: _allowUrls, allowDash: _allowDash, ...published } = spec;
  return spec.type === 'string' && dashAllowed(service, name, spec) ? { ...published, allowDash: true } : published;
}
