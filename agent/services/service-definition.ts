import type { InputSpec, OutputType } from '../../protocol/index.js';

/** How inputs become command-line arguments (`argformat`, README, Publish a program). */
export type ArgFormat = '--{key}={value}' | '--{key} {value}' | '-{key} {value}' | 'positional' | 'stdin-json';
export const ARG_FORMATS: readonly ArgFormat[] = ['--{key}={value}', '--{key} {value}', '-{key} {value}', 'positional', 'stdin-json'];

/**
 * An input as its service file declares it. `within` and `allowUrls` are checked by this agent
 * and never published; `allowDash` is published as the agent applies it (see option-safety.ts).
 */
export interface LocalInputSpec extends InputSpec {
  /** Real paths of the directories a value must lie inside; the value is then a path. */
  within?: string[];
  /** With `within`: URLs and GDAL virtual file names (`/vsicurl/…`) pass unchecked. */
  allowUrls?: boolean;
}

/**
 * Where an output is read from once the program has exited: stdout, a file relative to the run's
 * work directory, a directory there (sent as one zip archive), or an absolute path that the
 * operator wrote in a WPS Remote service.config.
 */
export type OutputSource =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'directory'; path: string }
  | { kind: 'operator-file'; path: string };

/** How one of an output's formats is produced: where the file is, and words added at the end of the command line. */
export interface OutputFormat {
  from: OutputSource;
  args: string[];
}

export interface LocalOutputSpec {
  type: OutputType;
  /** Where the output is read from; with `formats`, the default format's source. */
  from: OutputSource;
  /** With `formats`, the default format (the first one unless `mediaType` names another). */
  mediaType?: string;
  /** Media type → how the output is produced in it (README, Publish a program). */
  formats?: Record<string, OutputFormat>;
  title?: string;
  description?: string;
}

/**
 * One item of a service's argument list, in order (README, Arguments). A service with
 * `arguments` builds its argv from them alone; `customArgs` and `argFormat` then play no part.
 * - `word`: a fixed word (from `customargs`, or a WPS Remote `[ConstN]`).
 * - `input`: the words of `template` for each value of the input, `{value}` inside a word replaced
 *   by the value; an input without a value adds nothing. `separator` joins the values of a
 *   multi-valued input into one value instead of repeating the template.
 */
export type ArgumentItem =
  | { kind: 'word'; word: string }
  | { kind: 'input'; input: string; template: string[]; separator?: string };

/** What a line of the program's output does (WPS Remote `[Logging]`); the first rule that matches wins. */
export interface OutputLineRule {
  /** Regex source, run by the linear-time engine; `progress` takes the percent from group 1. */
  pattern: string;
  action: 'ignore' | 'progress' | 'log' | 'abort';
}

/** One valid properties file, as the agent keeps it: everything needed to run the program. */
export interface ServiceDefinition {
  /** Properties file name within the services folder, e.g. `echo.properties`. */
  file: string;
  /** `namespace:service`, or `service` when no namespace is set. */
  id: string;
  title?: string;
  description?: string;
  keywords: string[];
  version: string;
  /** Absolute path of the program; checked to exist and be executable when the file was read. */
  executable: string;
  /** `customargs`, already split into words (never given to a shell). */
  customArgs: string[];
  argFormat: ArgFormat;
  /** The ordered argument list, when the service file spells one out (per-input templates). */
  arguments?: ArgumentItem[];
  /** The input whose value is the program's standard input (a JSON object as JSON text); not with `stdin-json`. */
  stdinInput?: string;
  /** `endofoptions`: a `--` goes before the positional values, so they may start with '-'. */
  endOfOptions?: boolean;
  /** Inputs in declaration order (the order `positional` uses). */
  inputs: Record<string, LocalInputSpec>;
  outputs: Record<string, LocalOutputSpec>;
  /** Regex source with one capture group (the percent), matched on each output line. */
  progress?: string;
  /** Rules applied to each output line before `progress`; a WPS Remote `[Logging]` section. */
  lineRules?: OutputLineRule[];
  timeoutSeconds: number;
  /**
   * Directories made before each run and removed after it (a WPS Remote `workdir` built from
   * `%(unique_exe_id)s`); they, like words and output paths, hold RUN_ID_TOKEN (run-id.ts).
   */
  runDirs?: string[];
  /** Runs of this process at once on this agent; undefined means the agent's slots. */
  maxParallel?: number;
  /** `keep_jobs`: seconds the orchestrator keeps finished jobs of this process; undefined: its own setting. */
  keepJobs?: number;
  env: Record<string, string>;
}
