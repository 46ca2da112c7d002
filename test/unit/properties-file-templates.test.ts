import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { toProcessSpec } from '../../agent/services/catalog.js';
import { readServiceFile } from '../../agent/services/properties-file.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';
import { SERVICE_FILE, useServiceFileReader, useTempDir, writeScript } from '../helpers/temp-services.js';

describe('service files: inputs beyond scalars and where each input goes', () => {
  const { readValid, rejects } = useServiceFileReader();

  const inputs = (specs: Record<string, unknown>) => JSON.stringify(specs);

  it('builds the argument list from customargs placeholders and each input\'s arg', async () => {
    const service = await readValid({
      customargs: 'translate {src} -of GTiff {dst}',
      inputs: inputs({
        src: { type: 'string' },
        dst: { type: 'string', arg: '{value}' },
        bands: { type: 'integer', maxOccurs: 3, arg: '-b {value}' },
        list: { type: 'integer', maxOccurs: 3, required: false, arg: '--list={value}', separator: ',' },
        quiet: { type: 'boolean', default: false, arg: '-q' },
        size: { type: 'integer', required: false },
      }),
    });
    expect(service.arguments).to.deep.equal([
      { kind: 'word', word: 'translate' },
      { kind: 'input', input: 'src', template: ['{value}'] },
      { kind: 'word', word: '-of' },
      { kind: 'word', word: 'GTiff' },
      { kind: 'input', input: 'dst', template: ['{value}'] },
      { kind: 'input', input: 'bands', template: ['-b', '{value}'] },
      { kind: 'input', input: 'list', template: ['--list={value}'], separator: ',' },
      { kind: 'input', input: 'quiet', template: ['-q'] },
      { kind: 'input', input: 'size', template: ['--size={value}'] },
    ]);
    expect(service.inputs['bands']).to.deep.equal({ type: 'integer', maxOccurs: 3, required: true });
  });

  it('keeps plain argformat (no argument list) for a file whose inputs say nothing about placement', async () => {
    expect(await readValid({ customargs: '-l', inputs: inputs({ a: { type: 'string' } }) })).to.not.have.property('arguments');
  });

  it('reads one input from stdin', async () => {
    const service = await readValid({ inputs: inputs({ doc: { type: 'object', stdin: true }, n: { type: 'integer', arg: '-n {value}' } }) });
    expect(service.stdinInput).to.equal('doc');
    expect(service.arguments).to.deep.equal([{ kind: 'input', input: 'n', template: ['-n', '{value}'] }]);
  });

  it('refuses placements that cannot work, with the reason', async () => {
    await rejects({ inputs: inputs({ z: { type: 'integer', arg: '-z' } }) }, "input 'z': arg must contain {value}");
    await rejects({ inputs: inputs({ z: { type: 'bbox', arg: '-te {crs}' } }) }, "input 'z': arg must contain {value} or {minx} or {miny} or {maxx} or {maxy}");
    await rejects({ inputs: inputs({ z: { type: 'integer', arg: 5 } }) }, `input 'z': arg must be the words the value becomes, like "-z {value}"`);
    await rejects({ inputs: inputs({ z: { type: 'string', arg: '-z {value} *' } }) }, "input 'z': arg contains a wildcard '*' (it is never expanded; quote it)");
    await rejects({ inputs: inputs({ z: { type: 'integer', separator: ',' } }) }, "input 'z': separator only applies to inputs with maxOccurs above 1");
    await rejects({ inputs: inputs({ z: { type: 'integer', stdin: true } }) }, "input 'z': stdin only applies to string and object inputs");
    await rejects(
      { inputs: inputs({ a: { type: 'string', stdin: true }, b: { type: 'object', stdin: true } }) },
      'only one input can be read from stdin, not a and b',
    );
    await rejects({ customargs: 'x {nope}', inputs: inputs({ a: { type: 'string' } }) }, "'customargs' names no input {nope}");
    await rejects({ customargs: '{a} {a}', inputs: inputs({ a: { type: 'string' } }) }, "'customargs' places input 'a' twice");
    await rejects(
      { argformat: 'stdin-json', inputs: inputs({ a: { type: 'string', arg: '-a {value}' } }) },
      "'argformat' stdin-json does not apply when inputs say where they go (arg, stdin, or {input} in 'customargs')",
    );
    await rejects(
      { argformat: 'positional', endofoptions: 'true', inputs: inputs({ a: { type: 'string', arg: '{value}' } }) },
      "'endofoptions' does not apply when inputs say where they go; write -- in 'customargs' instead",
    );
  });

  it('refuses an optional positional input before another positional input, in either form', async () => {
    const reason = "input 'a' may be left out, so it must not come before positional input 'b' (give it a default, or an option word)";
    const pair = { a: { type: 'string', required: false }, b: { type: 'string' } };
    await rejects({ argformat: 'positional', inputs: inputs(pair) }, reason);
    await rejects({ customargs: '{a} {b}', inputs: inputs(pair) }, reason);
    await readValid({ argformat: 'positional', inputs: inputs({ b: pair.b, a: pair.a }) });
    await readValid({ customargs: '{a} {b}', inputs: inputs({ a: { ...pair.a, maxOccurs: 9 }, b: pair.b }) });
    await readValid({ customargs: '{a} {b}', inputs: inputs({ a: { ...pair.a, arg: '-a {value}' }, b: pair.b }) });
  });

  it('reads array, bounding box and object inputs and publishes them', async () => {
    const crs = ['http://www.opengis.net/def/crs/EPSG/0/4326'];
    const service = await readValid({
      inputs: inputs({
        bands: { type: 'integer', minOccurs: 0, maxOccurs: 4, default: 1 },
        aoi: { type: 'bbox', crs },
        options: { type: 'object', required: false },
      }),
    });
    expect(toProcessSpec(service, 1).inputs).to.deep.equal({
      bands: { type: 'integer', minOccurs: 0, maxOccurs: 4, default: [1], required: false },
      aoi: { type: 'bbox', crs, required: true },
      options: { type: 'object', required: false },
    });
  });

  it('refuses array, bounding box and object declarations that do not fit together', async () => {
    const one = (spec: Record<string, unknown>) => ({ inputs: inputs({ x: spec }) });
    await rejects(one({ type: 'bbox', maxOccurs: 2 }), "input 'x': maxOccurs above 1 only applies to string, number, integer and boolean inputs");
    await rejects(one({ type: 'object', enum: ['a'] }), "input 'x': enum only applies to string, number, integer and boolean inputs");
    await rejects(one({ type: 'integer', minOccurs: 3, maxOccurs: 2 }), "input 'x': minOccurs must not be greater than maxOccurs");
    await rejects(one({ type: 'integer', minOccurs: 1, required: false }), "input 'x': required contradicts minOccurs 1");
    await rejects(one({ type: 'integer', maxOccurs: 2, minimum: 0, default: [1, -1], required: false }), "input 'x': default must be at least 0");
    await rejects(one({ type: 'string', crs: ['urn:a'] }), "input 'x': crs only applies to bbox inputs");
    await rejects(one({ type: 'bbox', crs: ['EPSG 4326'] }), `input 'x': crs "EPSG 4326" must be an absolute URI`);
    await rejects(one({ type: 'bbox', default: { bbox: [1, 2] } }), `input 'x': default must be a bounding box {"bbox": [minx, miny, maxx, maxy]}`);
    await rejects(
      { argformat: 'positional', inputs: inputs({ x: { type: 'string', maxOccurs: 2, default: ['a', '-b'] } }) },
      `input 'x': "-b" starts with '-', so it would be refused (set "allowDash": true if the program should read it as an option)`,
    );
  });
});

describe('service files: a backslash that starts no escape keeps it', () => {
  const tempDir = useTempDir();

  async function readRaw(body: string): Promise<ServiceDefinition> {
    const dir = tempDir();
    const tool = await writeScript(dir, 'tool.sh');
    await fs.writeFile(path.join(dir, SERVICE_FILE), `service = svc\nexecutable = ${tool}\n${body}\n`);
    const result = await readServiceFile(dir, SERVICE_FILE);
    if (result.status !== 'valid') expect.fail(`expected a valid file, got ${JSON.stringify(result)}`);
    return result.service;
  }

  it('reads a progress pattern written with one backslash or two the same', async () => {
    for (const written of ['(\\d+)%', '(\\\\d+)%']) expect((await readRaw(`progress = ${written}`)).progress, written).to.equal('(\\d+)%');
  });

  it('reads a pattern inside the inputs JSON written once, as a user types it, or escaped as before', async () => {
    for (const written of ['^\\d+\\b$', '^\\\\d+\\\\b$', '^\\\\\\\\d+\\\\\\\\b$']) {
      const service = await readRaw(`inputs = {"code": {"type": "string", "pattern": "${written}"}}`);
      expect(service.inputs['code']?.pattern, written).to.equal('^\\d+\\b$');
    }
  });

  it('keeps the escapes both formats define: \\n, \\t, \\uXXXX, \\" and line continuations', async () => {
    const service = await readRaw(
      'inputs = {"t": {"type": "string", "default": "a\\\\tb\\u00e9 \\"q\\""}, \\\n  "p": {"type": "string", "required": false, "pattern": "\\u{1F600}|x\\\\n"}}',
    );
    expect(service.inputs['t']).to.deep.include({ default: 'a\tbé "q"' });
    expect(service.inputs['p']).to.deep.include({ pattern: '\\u{1F600}|x\n' });
  });
});
