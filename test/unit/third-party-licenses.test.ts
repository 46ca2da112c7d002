import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { licenseText, packageFolder, thirdPartyLicenses } from '../../scripts/third-party-licenses.js';

describe("the agent bundle's third-party licenses", function () {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-licenses-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the package a bundled file came from, scoped, nested or through a symlinked node_modules', () => {
    expect(packageFolder('node_modules/ajv/dist/core.js')).to.equal('node_modules/ajv');
    expect(packageFolder('node_modules/@xmpp/client/index.js')).to.equal('node_modules/@xmpp/client');
    expect(packageFolder('../../main/node_modules/@xmpp/tls/node_modules/@xmpp/connection-tcp/index.js')).to.equal('../../main/node_modules/@xmpp/tls/node_modules/@xmpp/connection-tcp');
    expect(packageFolder('dist/agent/main.js')).to.equal(undefined);
  });

  it('takes every license file a package ships, in name order', async () => {
    await writeFile(path.join(dir, 'LICENSE-MIT'), 'MIT text\n');
    await writeFile(path.join(dir, 'COPYING'), 'GPL text\n');
    await writeFile(path.join(dir, 'licensed.js'), 'not a license');
    expect(licenseText(dir, { name: 'dual', version: '1.0.0', license: 'MIT OR GPL-2.0' })).to.equal('GPL text\n\nMIT text');
  });

  it("names the package.json's license when there is no file, and gives none when neither says", () => {
    expect(licenseText(dir, { name: 'koa-compose', version: '4.2.0', license: 'MIT' })).to.equal('koa-compose ships no license file; its package.json names the license MIT.');
    expect(licenseText(dir, { name: 'old', version: '0.1.0', license: { type: 'BSD' } })).to.equal('old ships no license file; its package.json names the license BSD.');
    expect(licenseText(dir, { name: 'silent', version: '1.0.0' })).to.equal(undefined);
  });

  it('lists the packages under their name and version, in name order', () => {
    const text = thirdPartyLicenses('outpost-agent.mjs', new Map([['pino@10.4.0', 'MIT'], ['@xmpp/client@0.14.0', 'ISC']]));
    expect(text.split('\n').filter((line) => /^[@a-z].*@\d/.test(line))).to.deep.equal(['@xmpp/client@0.14.0', 'pino@10.4.0']);
    expect(text.split('\n')[0]).to.equal('outpost-agent.mjs contains the following 2 packages, under these licenses.');
  });
});
