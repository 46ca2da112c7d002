import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'dot-properties';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ProcessSpecSchema } from '../../protocol/index.js';
import { toProcessSpec } from '../../agent/services/catalog.js';
import { readServiceFile, type ParsedServiceFile } from '../../agent/services/properties-file.js';
import { readAnyServiceFile } from '../../agent/services/service-file.js';
import { ARG_FORMATS } from '../../agent/services/service-definition.js';
import { expectOneLine, fuzzEdge, hostileJson, watchUnhandledRejections, scaledTimeout } from '../helpers/fuzz.js';
import { inputDeclarations } from '../helpers/fuzz-inputs.js';

FormatRegistry.Set('date-time', (text) => !Number.isNaN(Date.parse(text)));

const json = (value: fc.Arbitrary<unknown>) => value.map((item) => JSON.stringify(item) ?? '');
const text = fc.string({ unit: 'binary', maxLength: 40 });

/** Values for each key of a properties file: plausible, borderline and hostile. */
const PROPERTY_VALUES: Record<string, fc.Arbitrary<string>> = {
  service: fc.oneof(fc.constantFrom('echo', 'a.b-c_d', '__proto__', '..', 'x'.repeat(101), ''), text),
  namespace: fc.oneof(fc.constantFrom('ns', 'x'.repeat(150)), text),
  title: text,
  description: fc.oneof(text, fc.constant('d'.repeat(4001))),
  keywords: fc.oneof(text, fc.constant(Array.from({ length: 51 }, (_, i) => `k${i}`).join(','))),
  version: text,
  executable: fc.oneof(fc.constantFrom('/bin/echo', '/bin/true', '/etc/passwd', '/', 'missing', '.', '/dev/null', '/bin/echo\u0000'), text),
  customargs: fc.oneof(fc.constantFrom('-v "a b"', "'unclosed", '$(reboot)', '${file}', '-- --help'), text),
  argformat: fc.oneof(fc.constantFrom(...ARG_FORMATS), text),
  endofoptions: fc.constantFrom('true', 'false', 'TRUE', 'yes', ''),
  inputs: fc.oneof(json(inputDeclarations()), json(hostileJson()), text),
  outputs: fc.oneof(json(fc.dictionary(fc.constantFrom('result', 'report', '__proto__'), fc.record({ type: fc.constantFrom('string', 'json', 'file', 'x'), from: fc.constantFrom('stdout', 'file:out.txt', 'file:../../etc/passwd', 'file:/abs') }, { requiredKeys: [] }))), json(hostileJson()), text),
  progress: fc.oneof(fc.constantFrom('PROGRESS (\\d+)', '(a+)+(\\d+)', '(', '\\d+', '(?<n>\\d+)', '(\\d+)'.repeat(20)), text),
  timeout: fc.oneof(fc.constantFrom('1', '0', '-1', '1e9', '2147484', '.5', '3.', 'Infinity', 'NaN'), text),
  max_parallel: fc.oneof(fc.constantFrom('1', '0', '99999999999999999999', '1.5'), text),
  active: fc.constantFrom('true', 'false', 'False', 'no', ''),
  env: fc.oneof(json(fc.dictionary(fc.constantFrom('PATH', 'A', '1X', 'A-B', '__proto__'), fc.oneof(fc.string(), fc.constant('a\u0000b'), fc.integer()))), json(hostileJson()), text),
};

/** A properties file: a valid base with keys set, replaced or repeated, and lines of any kind. */
function propertiesText(): fc.Arbitrary<string> {
  const setting = fc.oneof(
    ...Object.entries(PROPERTY_VALUES).map(([key, value]) => value.map((v): [string, string] => [key, v])),
    fc.tuple(fc.constantFrom('unknown', 'a\nb', '', '#x', 'service '), text),
  );
  return fc.record({ settings: fc.array(setting, { maxLength: 5 }), escaped: fc.boolean(), junk: fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 2 }), weight: 1 }) }).map(({ settings, escaped, junk }) => {
    const base = new Map<string, string>([['service', 'echo'], ['executable', '/bin/echo']]);
    const repeated: string[] = [];
    for (const [key, value] of settings) {
      if (base.has(key) && value.startsWith('d')) repeated.push(`${key}=${value}`);
      else base.set(key, value);
    }
    const body = escaped ? stringify(Object.fromEntries(base), { lineWidth: null }) : [...base].map(([key, value]) => `${key} = ${value}`).join('\n');
    return [body, ...repeated, ...junk].join('\n');
  });
}

const WPS_TYPES = fc.constantFrom('string', 'int', 'float', 'url', 'datetime', 'boolean', 'application/zip', 'image/tiff', 'application/json', 'text/x', 'weird');
/** A WPS Remote per-key declaration: `{"type": …, "min": …, "max": …, "default": …}`, well formed or not. */
const wpsDeclaration = fc.oneof(
  json(fc.record({ type: WPS_TYPES, min: fc.oneof(fc.nat(3), fc.constant(-1)), max: fc.oneof(fc.nat(3), fc.constant('x')), default: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), enum: fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), title: text }, { requiredKeys: [] })),
  json(hostileJson()),
  text,
);

/** A WPS Remote flat file (the reference's form): the WPS-only keys, and per-key inputs and outputs. */
function wpsFlatText(): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom('name', 'child', 'welcome', 'goodbye', 'outputs', 'argformat', 'customargs', 'active', 'debug', 'result_size', 'progress'), fc.string({ maxLength: 8 }));
  const value = fc.oneof(wpsDeclaration, fc.constantFrom('--key=value', '-key value', 'positional', 'True', 'False', 'D:\\user\\', '^STEP (\\d+)', '{"type": "string",', 'welcome, goodbye'), text);
  return fc.array(fc.tuple(key, value), { maxLength: 6 }).map((pairs) =>
    ['service = flat', 'executable = /bin/echo', 'process_buffer = 1024', ...pairs.map(([k, v]) => `${k} = ${v}`)].join('\n'),
  );
}

/** A WPS Remote service.config: its sections with plausible, borderline and hostile values. */
function serviceConfigText(): fc.Arbitrary<string> {
  const value = fc.oneof(fc.constantFrom('%(missing)s', '%(service)s', '%%', '%', 'python3 %(executable_path)s/x.py', '-name value', '--x', '[".*ProgressInfo:(\\d+)"]', '["ignore"]', '["progress", "abort"]', '/tmp/out.txt', '../x', 'True', 'copyfile'), text);
  const section = fc.tuple(
    fc.constantFrom('[Input1]', '[Input2]', '[Action1]', '[Const1]', '[Output1]', '[Logging]', '[Other]'),
    fc.array(fc.tuple(fc.constantFrom('class', 'name', 'type', 'min', 'max', 'default', 'input_ref', 'alias', 'template', 'value', 'filepath', 'stdout_parser', 'stdout_action', 'title'), fc.oneof(value, WPS_TYPES, fc.constantFrom('param', 'cmdline', 'const', 'updateINIfile'))), { maxLength: 5 }),
  );
  return fc.array(section, { maxLength: 5 }).map((sections) =>
    [
      '[DEFAULT]',
      'service = Fuzzed',
      'executable_path = /bin',
      'executable_cmd = %(executable_path)s/echo',
      ...sections.flatMap(([header, keys]) => [header, ...keys.map(([k, v]) => `${k} = ${v}`)]),
    ].join('\n'),
  );
}

/**
 * Every service-file form the agent reads: its reader and generated file contents. A new form is
 * one more entry.
 */
const SERVICE_FILE_FORMS: { edge: string; file: string; contents: fc.Arbitrary<string>; read: (dir: string, file: string) => Promise<ParsedServiceFile> }[] = [
  { edge: 'properties-file', file: 'fuzzed.properties', contents: propertiesText(), read: readServiceFile },
  { edge: 'wps-flat-file', file: 'fuzzed.properties', contents: wpsFlatText(), read: readAnyServiceFile },
  { edge: 'wps-service-config', file: 'fuzzed.config', contents: serviceConfigText(), read: readAnyServiceFile },
];

describe('fuzz: service files', function () {
  this.timeout(scaledTimeout(20_000));
  const rejections = watchUnhandledRejections();
  let dir: string;
  before(async () => void (dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-fuzz-services-'))));
  after(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => rejections.check());

  for (const { edge, file, contents, read } of SERVICE_FILE_FORMS) {
    it(`${edge}: never throws; publishes a process the catalog schema accepts, or gives one line of reason`, async () => {
      await fuzzEdge(
        edge,
        { runs: 2000, timeMs: 5000 },
        fc.asyncProperty(contents, async (text) => {
          await writeFile(path.join(dir, file), text);
          const parsed = await read(dir, file);
          if (parsed.status === 'invalid') return expectOneLine(parsed.invalid.reason, 'the reason');
          if (parsed.status === 'valid' && !Value.Check(ProcessSpecSchema, toProcessSpec(parsed.service, 1))) {
            throw new Error(`published a process the catalog schema refuses: ${JSON.stringify(toProcessSpec(parsed.service, 1)).slice(0, 400)}`);
          }
        }),
      );
    });
  }
});
