import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { readServiceFile, type ParsedServiceFile } from '../../agent/services/properties-file.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';
import { errorMessage, useTempDir, writeProperties, writeScript } from '../helpers/temp-services.js';

const FILE = 'svc.properties';

describe('readServiceFile', () => {
  const tempDir = useTempDir();
  let dir: string;
  let tool: string;

  beforeEach(async () => {
    dir = tempDir();
    tool = await writeScript(dir, 'tool.sh');
  });

  async function read(properties: Record<string, string>): Promise<ParsedServiceFile> {
    await writeProperties(dir, FILE, properties);
    return readServiceFile(dir, FILE);
  }

  async function readValid(properties: Record<string, string>): Promise<ServiceDefinition> {
    const result = await read({ service: 'svc', executable: tool, ...properties });
    if (result.status !== 'valid') expect.fail(`expected a valid file, got ${JSON.stringify(result)}`);
    return result.service;
  }

  async function expectInvalid(properties: Record<string, string>, reason: string): Promise<void> {
    expect(await read(properties)).to.deep.equal({ status: 'invalid', invalid: { file: FILE, reason } });
  }

  /** Expects `reason` for a file that is valid except for the given keys. */
  function rejects(properties: Record<string, string>, reason: string): Promise<void> {
    return expectInvalid({ service: 'svc', executable: tool, ...properties }, reason);
  }

  const inputs = (specs: Record<string, unknown>) => ({ inputs: JSON.stringify(specs) });
  const outputs = (specs: Record<string, unknown>) => ({ outputs: JSON.stringify(specs) });

  it('reads a file that uses every key into the exact definition', async () => {
    await fs.writeFile(
      path.join(dir, FILE),
      [
        '# an image converter',
        'service = convert',
        'namespace = img',
        'title = Convert images',
        'description = Converts an image \\',
        '    to another size',
        'keywords = image, convert ,, ',
        'version = 2.1.0',
        'executable = tool.sh',
        `customargs = --mode "fast mode" '$HOME'`,
        'argformat = --{key} {value}',
        'inputs = {"size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, \\',
        '          "name": {"type": "string", "description": "file name", "pattern": "^[a-z]+$"}, \\',
        '          "verbose": {"type": "boolean", "required": false}, \\',
        '          "mode": {"type": "string", "enum": ["a", "b"], "default": "a"}}',
        'outputs = {"image": {"type": "file", "from": "file:out/./image.png", "mediaType": "image/png", "title": "Image"}, \\',
        '           "log": {"type": "string", "description": "what happened"}}',
        'progress = ^(\\\\d+)%$',
        'timeout = 90.5',
        'max_parallel = 2',
        'active = true',
        'env = {"LANG": "C.UTF-8"}',
      ].join('\n'),
    );
    const result = await readServiceFile(dir, FILE);
    const expected: ServiceDefinition = {
      file: FILE,
      id: 'img:convert',
      title: 'Convert images',
      description: 'Converts an image to another size',
      keywords: ['image', 'convert'],
      version: '2.1.0',
      executable: tool,
      customArgs: ['--mode', 'fast mode', '$HOME'],
      argFormat: '--{key} {value}',
      inputs: {
        size: { type: 'integer', minimum: 1, maximum: 100, default: 10, required: false },
        name: { type: 'string', description: 'file name', pattern: '^[a-z]+$', required: true },
        verbose: { type: 'boolean', required: false },
        mode: { type: 'string', enum: ['a', 'b'], default: 'a', required: false },
      },
      outputs: {
        image: { type: 'file', from: { kind: 'file', path: 'out/image.png' }, mediaType: 'image/png', title: 'Image' },
        log: { type: 'string', from: { kind: 'stdout' }, description: 'what happened' },
      },
      progress: '^(\\d+)%$',
      timeoutSeconds: 90.5,
      maxParallel: 2,
      env: { LANG: 'C.UTF-8' },
    };
    expect(result).to.deep.equal({ status: 'valid', service: expected });
    if (result.status === 'valid') expect(Object.keys(result.service.inputs)).to.deep.equal(['size', 'name', 'verbose', 'mode']);
  });

  it('reads keep_jobs, the seconds the orchestrator keeps finished jobs of the process', async () => {
    expect((await readValid({ keep_jobs: '86400' })).keepJobs).to.equal(86400);
    expect(await readValid({ keep_jobs: '' })).to.not.have.property('keepJobs');
  });

  it('fills in the defaults of a minimal file', async () => {
    expect(await readValid({})).to.deep.equal({
      file: FILE,
      id: 'svc',
      keywords: [],
      version: '1.0.0',
      executable: tool,
      customArgs: [],
      argFormat: '--{key}={value}',
      inputs: {},
      outputs: { result: { type: 'string', from: { kind: 'stdout' } } },
      timeoutSeconds: 3600,
      env: {},
    });
  });

  it('treats an empty optional value like a missing key', async () => {
    const service = await readValid({ title: '', namespace: '', timeout: '', outputs: '', active: '' });
    expect(service.id).to.equal('svc');
    expect(service).to.not.have.property('title');
    expect(service.timeoutSeconds).to.equal(3600);
    expect(service.outputs).to.have.keys('result');
  });

  it('resolves a relative executable against the folder of the properties file', async () => {
    const nested = await writeScript(dir, 'bin/nested.sh');
    expect((await readValid({ executable: 'bin/nested.sh' })).executable).to.equal(nested);
    expect((await readValid({ executable: './bin/../tool.sh' })).executable).to.equal(tool);
  });

  it('splits customargs like a shell but expands nothing', async () => {
    const { customArgs } = await readValid({
      customargs: `--name "two words" 'single $HOME' $HOME "\${HOME}/x" a\\ b \\$PATH "\\$USER" $$ --tab=$'a\\tb' ''`,
    });
    expect(customArgs).to.deep.equal(['--name', 'two words', 'single $HOME', '$HOME', '${HOME}/x', 'a b', '$PATH', '$USER', '$$', '--tab=a\tb', '']);
  });

  it('marks an input required unless it has a default or says required:false', async () => {
    const service = await readValid(
      inputs({ a: { type: 'string' }, b: { type: 'string', default: 'x' }, c: { type: 'number', required: false }, d: { type: 'boolean', required: true } }),
    );
    expect(Object.fromEntries(Object.entries(service.inputs).map(([name, spec]) => [name, spec.required]))).to.deep.equal({
      a: true,
      b: false,
      c: false,
      d: true,
    });
  });

  it('reports a file with active=false as inactive without validating the rest', async () => {
    expect(await read({ service: 'svc', executable: 'missing.sh', active: 'false' })).to.deep.equal({ status: 'inactive', file: FILE });
    expect(await read({ service: 'svc', executable: tool, active: 'FALSE' })).to.deep.equal({ status: 'inactive', file: FILE });
  });

  describe('refuses', () => {
    it('unknown and repeated keys', async () => {
      await rejects({ foo: '1' }, "unknown key 'foo'");
      await fs.writeFile(path.join(dir, FILE), `service=a\nexecutable=${tool}\nservice=b\n`);
      expect(await readServiceFile(dir, FILE)).to.deep.equal({ status: 'invalid', invalid: { file: FILE, reason: "key 'service' is set more than once" } });
    });

    it('a missing, empty or badly named service or namespace', async () => {
      await expectInvalid({ executable: tool }, "missing required key 'service'");
      await rejects({ service: '' }, "'service' must not be empty");
      await rejects({ service: 'a b' }, "'service' must match [A-Za-z0-9_.-]+ (at most 100 characters)");
      await rejects({ service: '..' }, "'service' must not be '..'");
      await rejects({ namespace: 'x:y' }, "'namespace' must match [A-Za-z0-9_.-]+ (at most 100 characters)");
      await rejects({ namespace: 'n'.repeat(100), service: 's'.repeat(100) }, `process id '${'n'.repeat(100)}:${'s'.repeat(100)}' must be at most 200 characters`);
    });

    it('a missing, absent or non-executable executable', async () => {
      await expectInvalid({ service: 'svc' }, "missing required key 'executable'");
      await rejects({ executable: 'nope.sh' }, `executable '${path.join(dir, 'nope.sh')}' does not exist`);
      await rejects({ executable: 'tool.sh/x' }, `executable '${path.join(dir, 'tool.sh/x')}' does not exist`);
      await rejects({ executable: dir }, `executable '${dir}' is not a regular file`);
      await fs.chmod(tool, 0o644);
      await rejects({}, `executable '${tool}' is not executable`);
    });

    it('customargs that only a shell could give a meaning', async () => {
      const reason = (what: string) => `'customargs' contains ${what}`;
      await rejects({ customargs: 'a; rm -rf /' }, `${reason("a shell operator ';'")} (it is never run by a shell)`);
      await rejects({ customargs: 'a > out.txt' }, `${reason("a shell operator '>'")} (it is never run by a shell)`);
      await rejects({ customargs: 'a | b' }, `${reason("a shell operator '|'")} (it is never run by a shell)`);
      await rejects({ customargs: '*.txt' }, `${reason("a wildcard '*.txt'")} (it is never expanded; quote it)`);
      await rejects({ customargs: 'a # note' }, `${reason("a comment '# note'")} (it is never run by a shell)`);
      await rejects({ customargs: '--title "hello world' }, `'customargs' has an unclosed " quote`);
      await rejects({ customargs: "it's" }, `'customargs' has an unclosed ' quote`);
      await rejects({ customargs: 'a\\' }, "'customargs' ends with a lone backslash");
      await rejects({ customargs: '"a\u0000b"' }, "'customargs' must not contain a NUL character");
    });

    it('an unknown argformat', async () => {
      await rejects({ argformat: '--{key}:{value}' }, "'argformat' must be one of --{key}={value}, --{key} {value}, -{key} {value}, positional, stdin-json");
    });

    it('inputs that are not a JSON object of valid input specs', async () => {
      await rejects({ inputs: '{bad' }, `'inputs' is not valid JSON: ${errorMessage(() => JSON.parse('{bad'))}`);
      await rejects({ inputs: '[]' }, "'inputs' must be a JSON object");
      await rejects({ inputs: '{"a": {"type": "number", "maximum": 1e400}}' }, "'inputs' contains a number too large to represent");
      await rejects(inputs({ 'a b': { type: 'string' } }), "input name 'a b' must match [A-Za-z0-9_.-]+ (at most 100 characters)");
      await rejects({ inputs: '{"__proto__": {"type": "string"}}' }, "input name '__proto__' must not be '__proto__'");
      await rejects(inputs({ 1: { type: 'string' } }), "input name '1' must not be all digits (its declaration order would be lost)");
      await rejects(inputs({ size: 5 }), "input 'size' must be a JSON object");
      await rejects(inputs({ size: { type: 'float' } }), "input 'size': type must be one of string, number, integer, boolean, bbox, object, file");
      await rejects(inputs({ size: { type: 'number', minimum: '1' } }), "input 'size': /minimum must be number");
      await rejects(inputs({ size: { type: 'number', foo: 1 } }), "input 'size': unknown property 'foo'");
    });

    it('input specs whose values do not agree with each other', async () => {
      const rejectsSize = (spec: Record<string, unknown>, reason: string) => rejects(inputs({ size: spec }), `input 'size': ${reason}`);
      await rejectsSize({ type: 'integer', default: 1.5 }, 'default must be an integer');
      await rejectsSize({ type: 'string', default: 1 }, 'default must be a string');
      await rejectsSize({ type: 'boolean', default: 'yes' }, 'default must be a boolean');
      await rejectsSize({ type: 'number', enum: [1, 'two'] }, 'enum value "two" must be a number');
      await rejectsSize({ type: 'string', enum: ['a', 'b'], default: 'c' }, 'default must be one of "a", "b"');
      await rejectsSize({ type: 'number', minimum: 5, maximum: 1 }, 'minimum must not be greater than maximum');
      await rejectsSize({ type: 'number', maximum: 10, default: 11 }, 'default must be at most 10');
      await rejectsSize({ type: 'string', minLength: 3, maxLength: 2 }, 'minLength must not be greater than maxLength');
      await rejectsSize({ type: 'string', pattern: '^[a-z]+$', default: 'A' }, 'default must match the pattern ^[a-z]+$');
      await rejectsSize({ type: 'string', pattern: '(' }, `pattern is not a valid regular expression: ${errorMessage(() => new RegExp('(', 'u'))}`);
      await rejectsSize({ type: 'number', pattern: 'x' }, 'pattern only applies to string inputs');
      await rejectsSize({ type: 'string', minimum: 1 }, 'minimum only applies to number and integer inputs');
      await rejectsSize({ type: 'number', default: 1, required: true }, 'a required input cannot have a default');
      await rejectsSize({ type: 'string', mediaTypes: ['image/tiff'] }, 'mediaTypes only applies to file inputs');
      await rejectsSize({ type: 'file', default: '/data/dem.tif' }, 'a file input takes no default');
      await rejectsSize({ type: 'file', enum: ['/data/dem.tif'] }, 'enum only applies to string, number, integer and boolean inputs');
      await rejectsSize({ type: 'file', maxLength: 10 }, 'maxLength only applies to string inputs');
      await rejectsSize({ type: 'file', mediaTypes: ['image tiff'] }, '/mediaTypes/0 must match pattern "^[\\w.+-]+/[\\w.+-]+(\\s*;\\s*[\\w.+-]+=(?:[\\w.+-]+|"[^"\\\\\\r\\n]*"))*$"');
    });

    it('outputs that are not valid or could leave the work directory', async () => {
      await rejects({ outputs: '{}' }, "'outputs' must declare at least one output");
      await rejects(outputs({ '..': { type: 'string' } }), "output name '..' must not be '..'");
      await rejects(outputs({ x: 'stdout' }), "output 'x' must be a JSON object");
      await rejects(outputs({ x: { type: 'text' } }), "output 'x': type must be one of string, json, file");
      await rejects(outputs({ x: { type: 'string', path: 'a' } }), "output 'x': unknown property 'path'");
      await rejects(outputs({ x: { type: 'string', from: 'stderr' } }), `output 'x': from must be "stdout", "file:RELATIVE/PATH" or "dir:RELATIVE/PATH/"`);
      await rejects(outputs({ x: { type: 'file' } }), `output 'x': a file output must name its file with "from": "file:RELATIVE/PATH" (or a directory with "dir:RELATIVE/PATH/")`);
      await rejects(outputs({ x: { type: 'file', from: 'stdout' } }), `output 'x': a file output must name its file with "from": "file:RELATIVE/PATH" (or a directory with "dir:RELATIVE/PATH/")`);
      for (const from of ['file:/etc/passwd', 'file:../x', 'file:a/../../x', 'file:..']) {
        await rejects(outputs({ x: { type: 'file', from } }), "output 'x': path must stay inside the work directory");
      }
      for (const from of ['file:', 'file:a/..', 'file:dir/']) {
        await rejects(outputs({ x: { type: 'file', from } }), "output 'x': path must name a file inside the work directory");
      }
    });

    it('a progress regex without a capture group', async () => {
      await rejects({ progress: '\\d+%' }, "'progress' must be a regular expression with one capture group");
      await rejects({ progress: '(?:\\d+)%' }, "'progress' must be a regular expression with one capture group");
      await rejects({ progress: '(\\d+' }, `'progress' is not a valid regular expression: ${errorMessage(() => new RegExp('(\\d+', 'u'))}`);
    });

    it('patterns the linear-time engine cannot run', async () => {
      const unsupported = 'uses a feature the linear-time engine does not support:';
      await rejects(inputs({ word: { type: 'string', pattern: '^(a)\\1$' } }), `input 'word': pattern ${unsupported} backreference \\1`);
      await rejects(inputs({ word: { type: 'string', pattern: '^(?!tmp)' } }), `input 'word': pattern ${unsupported} lookahead (?!…)`);
      await rejects({ progress: '(\\d+)(?=%)' }, `'progress' ${unsupported} lookahead (?=…)`);
      await rejects({ progress: '(?<=at )(\\d+)' }, `'progress' ${unsupported} lookbehind (?<=…)`);
    });

    it('a default checked against its pattern in linear time', async () => {
      const started = Date.now();
      const spec = { type: 'string', pattern: '^(a+)+$', default: `${'a'.repeat(30)}!` };
      await rejects(inputs({ word: spec }), "input 'word': default must match the pattern ^(a+)+$");
      expect(Date.now() - started).to.be.below(1000);
    });

    it('a timeout or max_parallel that is not a positive number', async () => {
      for (const timeout of ['0', '-1', '10s', 'abc', '0x10', '.']) await rejects({ timeout }, "'timeout' must be a positive number of seconds");
      await rejects({ timeout: '2147484' }, "'timeout' must be at most 2147483 seconds");
      for (const max_parallel of ['0', '1.5', 'two', '-2']) await rejects({ max_parallel }, "'max_parallel' must be a positive integer");
    });

    it('a keep_jobs that is not a whole number of seconds up to ten years', async () => {
      for (const keep_jobs of ['0', '1.5', 'week', '-1']) await rejects({ keep_jobs }, "'keep_jobs' must be a positive whole number of seconds");
      await rejects({ keep_jobs: '316224001' }, "'keep_jobs' must be at most 316224000 seconds (ten years)");
    });

    it('an active that is not true or false', async () => {
      await rejects({ active: 'yes' }, "'active' must be true or false");
    });

    it('an env that is not a JSON object of strings', async () => {
      await rejects({ env: '["A"]' }, "'env' must be a JSON object of strings");
      await rejects({ env: '{"A": 1}' }, "'env' must be a JSON object of strings");
      await rejects({ env: '{"A-B": "x"}' }, "'env' variable name 'A-B' must match ^[A-Za-z_][A-Za-z0-9_]*$");
      await rejects({ env: '{"A": "x\\u0000y"}' }, "'env' variable 'A' must not contain a NUL character");
    });

    it('texts longer than a process description allows', async () => {
      await rejects({ title: 't'.repeat(201) }, "'title' must be at most 200 characters");
      await rejects({ version: 'v'.repeat(51) }, "'version' must be at most 50 characters");
      await rejects({ keywords: Array.from({ length: 51 }, (_, i) => `k${i}`).join(',') }, "'keywords' must list at most 50 keywords");
    });

    it('files that cannot be read, are too large or are no regular files', async () => {
      expect(await readServiceFile(dir, 'gone.properties')).to.deep.equal({
        status: 'invalid',
        invalid: { file: 'gone.properties', reason: `cannot read file: ENOENT: no such file or directory, open '${path.join(dir, 'gone.properties')}'` },
      });
      await fs.writeFile(path.join(dir, FILE), `service=svc\nexecutable=${tool}\n#${'x'.repeat(256 * 1024)}\n`);
      expect(await readServiceFile(dir, FILE)).to.deep.equal({ status: 'invalid', invalid: { file: FILE, reason: 'file is larger than 256 KiB' } });
      await fs.mkdir(path.join(dir, 'folder.properties'));
      expect(await readServiceFile(dir, 'folder.properties')).to.deep.equal({
        status: 'invalid',
        invalid: { file: 'folder.properties', reason: 'not a regular file' },
      });
    });
  });
});
