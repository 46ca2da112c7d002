import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { confinePaths } from '../../agent/runner/confine-paths.js';
import type { LocalInputSpec } from '../../agent/services/service-definition.js';
import { useTempDir } from '../helpers/temp-services.js';

describe('confinePaths', () => {
  const tempDir = useTempDir();
  let root: string;
  let data: string;
  let outside: string;

  beforeEach(async () => {
    root = await fs.realpath(tempDir());
    data = path.join(root, 'data');
    outside = path.join(root, 'outside');
    await fs.mkdir(path.join(data, 'dem'), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(path.join(data, 'dem', 'a.tif'), 'dem');
    await fs.writeFile(path.join(outside, 'secret'), 'secret');
  });

  const confine = (values: Record<string, unknown>, spec: Partial<LocalInputSpec> = {}) =>
    confinePaths({ inputs: { dem: { type: 'string', within: [data], ...spec }, mode: { type: 'string', required: false } } }, values);
  const refusal = (rule: string) => ({ ok: false, message: `input 'dem' must be ${rule}` });
  const inside = () => `inside ${data}`;

  it('passes a path inside, existing or not yet, as its real path, and leaves other inputs alone', async () => {
    await fs.symlink(path.join(data, 'dem'), path.join(data, 'latest'));
    expect(await confine({ dem: `${data}/dem/a.tif`, mode: '-x' })).to.deep.equal({ ok: true, inputs: { dem: `${data}/dem/a.tif`, mode: '-x' } });
    expect(await confine({ dem: `${data}//latest/./new/b.tif` })).to.deep.equal({ ok: true, inputs: { dem: `${data}/dem/new/b.tif` } });
    expect(await confine({ dem: data })).to.deep.equal({ ok: true, inputs: { dem: data } });
  });

  it('checks the default when the input is absent', async () => {
    expect(await confine({}, { default: '/etc/passwd' })).to.deep.equal(refusal(`a path ${inside()} (symbolic links followed)`));
    expect(await confine({})).to.deep.equal({ ok: true, inputs: {} });
  });

  it('refuses a path outside, also through a symbolic link or a dangling one', async () => {
    await fs.symlink(outside, path.join(data, 'escape'));
    await fs.symlink(path.join(outside, 'made-later'), path.join(data, 'dangling'));
    for (const value of [`${outside}/secret`, `${data}/escape/secret`, `${data}/escape/new`, `${data}/dangling`, `${data}/dangling/x`, `${data}x/a`, '/']) {
      expect(await confine({ dem: value }), value).to.deep.equal(refusal(`a path ${inside()} (symbolic links followed)`));
    }
  });

  it('refuses relative paths and .. segments', async () => {
    expect(await confine({ dem: 'dem/a.tif' })).to.deep.equal(refusal(`an absolute path ${inside()}`));
    expect(await confine({ dem: `${data}/dem/../dem/a.tif` })).to.deep.equal(refusal(`a path without '..' ${inside()}`));
  });

  it('refuses URLs and GDAL virtual files unless the input allows them', async () => {
    const urls = ['/vsicurl/http://example.com/a.tif', '/vsis3/bucket/a.tif', '/VSIZIP//vsicurl/x', 'http://example.com/a', 'file:///etc/passwd', 'PG:dbname=x'];
    for (const value of urls) {
      expect(await confine({ dem: value }), value).to.deep.equal(refusal(`a path ${inside()}, not a URL or GDAL virtual file`));
      expect(await confine({ dem: value }, { allowUrls: true }), value).to.deep.equal({ ok: true, inputs: { dem: value } });
    }
    expect(await confine({ dem: `${outside}/secret` }, { allowUrls: true })).to.deep.equal(refusal(`a path ${inside()} (symbolic links followed)`));
  });

  it('refuses a value that is not a string, and names every directory', async () => {
    expect(await confine({ dem: 5 })).to.deep.equal({ ok: false, message: "input 'dem' must be a string" });
    expect(await confine({ dem: '/etc' }, { within: [data, outside] })).to.deep.equal(
      refusal(`a path inside ${data} or ${outside} (symbolic links followed)`),
    );
  });
});
