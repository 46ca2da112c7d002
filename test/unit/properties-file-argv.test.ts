import fs from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { toProcessSpec } from '../../agent/services/catalog.js';
import type { ServiceDefinition } from '../../agent/services/service-definition.js';
import { ProcessSpecSchema } from '../../protocol/index.js';
import { useServiceFileReader } from '../helpers/temp-services.js';

describe('service files: keys that keep values from becoming options', () => {
  const { dir: tempDir, tool: toolPath, readValid, rejects } = useServiceFileReader();
  let dir: string;
  let tool: string;

  beforeEach(() => {
    dir = tempDir();
    tool = toolPath();
  });

  const inputs = (specs: Record<string, unknown>) => JSON.stringify(specs);

  it('reads endofoptions for positional services only', async () => {
    expect((await readValid({ argformat: 'positional', endofoptions: 'true' })).endOfOptions).to.equal(true);
    expect((await readValid({ argformat: 'positional', endofoptions: 'False' })).endOfOptions).to.equal(false);
    expect(await readValid({ argformat: 'positional' })).to.not.have.property('endOfOptions');
    await rejects({ argformat: 'positional', endofoptions: 'yes' }, "'endofoptions' must be true or false");
    await rejects({ argformat: '--{key} {value}', endofoptions: 'true' }, "'endofoptions' only applies to argformat positional");
  });

  it('reads allowDash on string inputs only', async () => {
    const service = await readValid({ argformat: 'positional', inputs: inputs({ expr: { type: 'string', allowDash: true } }) });
    expect(service.inputs['expr']).to.deep.equal({ type: 'string', allowDash: true, required: true });
    await rejects({ inputs: inputs({ n: { type: 'number', allowDash: true } }) }, "input 'n': allowDash only applies to string inputs");
    await rejects({ inputs: inputs({ s: { type: 'string', allowDash: 'yes' } }) }, "input 's': /allowDash must be boolean");
  });

  it('refuses a default or enum value that would be refused as an option', async () => {
    const mode = (spec: Record<string, unknown>) => inputs({ mode: { type: 'string', ...spec } });
    const reason = (value: string) => `input 'mode': "${value}" starts with '-', so it would be refused (set "allowDash": true if the program should read it as an option)`;
    await rejects({ argformat: 'positional', inputs: mode({ default: '-l' }) }, reason('-l'));
    await rejects({ argformat: '-{key} {value}', inputs: mode({ enum: ['a', '-r'] }) }, reason('-r'));
    await readValid({ argformat: 'positional', inputs: mode({ enum: ['-a', '-l'], allowDash: true }) });
    await readValid({ argformat: 'positional', endofoptions: 'true', inputs: mode({ default: '-l' }) });
    await readValid({ inputs: mode({ default: '-l' }) });
  });

  it('reads within as the real paths of existing directories, and allowUrls with it', async () => {
    const data = path.join(dir, 'data');
    await fs.mkdir(data);
    await fs.symlink(data, path.join(dir, 'link'));
    const service = await readValid({ inputs: inputs({ dem: { type: 'string', within: [path.join(dir, 'link'), '/'], allowUrls: true } }) });
    expect(service.inputs['dem']).to.deep.equal({ type: 'string', required: true, within: [await fs.realpath(data), '/'], allowUrls: true });
  });

  it('refuses within and allowUrls that are malformed, misplaced or name no directory', async () => {
    const rejectsDem = (spec: Record<string, unknown>, reason: string) =>
      rejects({ inputs: inputs({ dem: { type: 'string', ...spec } }) }, `input 'dem': ${reason}`);
    await rejectsDem({ within: '/data' }, 'within must be a list of 1 to 50 directories');
    await rejectsDem({ within: [] }, 'within must be a list of 1 to 50 directories');
    await rejectsDem({ within: ['data'] }, 'within must list absolute directory paths');
    await rejectsDem({ within: [7] }, 'within must list absolute directory paths');
    await rejectsDem({ type: 'integer', within: ['/'] }, 'within only applies to string inputs');
    await rejectsDem({ allowUrls: true }, 'allowUrls only applies to inputs with within');
    await rejectsDem({ within: ['/'], allowUrls: 'yes' }, 'allowUrls must be true or false');
    await rejectsDem({ within: [path.join(dir, 'missing')] }, `within directory '${path.join(dir, 'missing')}' does not exist`);
    await rejectsDem({ within: [tool] }, `within '${tool}' is not a directory`);
  });
});

describe('toProcessSpec: allowDash as the agent applies it', () => {
  const validate = new Ajv({ strict: true }).compile(ProcessSpecSchema);
  const service = (argFormat: ServiceDefinition['argFormat'], extra: Partial<ServiceDefinition> = {}): ServiceDefinition => ({
    file: 'ls.properties',
    id: 'ls',
    keywords: [],
    version: '1.0.0',
    executable: '/bin/ls',
    customArgs: [],
    argFormat,
    inputs: {
      path: { type: 'string', required: true, within: ['/srv'], allowUrls: true },
      expr: { type: 'string', allowDash: true, required: false },
      size: { type: 'integer', required: false },
    },
    outputs: { result: { type: 'string', from: { kind: 'stdout' } } },
    timeoutSeconds: 60,
    env: {},
    ...extra,
  });

  it('marks string inputs whose values are never read as options, and publishes no path settings', () => {
    const published = (definition: ServiceDefinition) => toProcessSpec(definition, 1).inputs;
    const refused = { path: { type: 'string', required: true }, expr: { type: 'string', allowDash: true, required: false }, size: { type: 'integer', required: false } };
    const allowed = { ...refused, path: { type: 'string', required: true, allowDash: true } };
    expect(published(service('positional'))).to.deep.equal(refused);
    expect(published(service('--{key} {value}'))).to.deep.equal(refused);
    expect(published(service('-{key} {value}'))).to.deep.equal(refused);
    expect(published(service('positional', { endOfOptions: true }))).to.deep.equal(allowed);
    expect(published(service('--{key}={value}'))).to.deep.equal(allowed);
    expect(published(service('stdin-json'))).to.deep.equal(allowed);
    const spec = toProcessSpec(service('positional'), 1);
    expect(validate(spec), JSON.stringify(validate.errors)).to.equal(true);
  });
});
