import { expect } from 'chai';
import { loadDevConfig, loadServeConfig } from '../../src/config.js';
import { errorMessage } from '../helpers/temp-services.js';

const SERVE = ['--xmpp-server', 'xmpp://xmpp.example.org:5347', '--component-jid', 'orchestrator.example.org', '--component-secret', 's'];

describe('config: upload settings', () => {
  it('has no public URL and a 1 GiB upload limit by default', () => {
    const config = loadServeConfig(SERVE, {});
    expect([config.publicUrl, config.maxUploadBytes]).to.deep.equal([undefined, 1024 ** 3]);
  });

  it('takes them from flags before the environment, without a trailing slash', () => {
    const env = { OUTPOST_PUBLIC_URL: 'http://env.example.org', OUTPOST_MAX_UPLOAD_BYTES: '5' };
    const fromFlags = loadServeConfig([...SERVE, '--public-url', 'https://outpost.example.org/api/', '--max-upload-bytes', '1048576'], env);
    expect([fromFlags.publicUrl, fromFlags.maxUploadBytes]).to.deep.equal(['https://outpost.example.org/api', 1048576]);
    const dev = loadDevConfig([], env);
    expect([dev.publicUrl, dev.maxUploadBytes]).to.deep.equal(['http://env.example.org', 5]);
  });

  for (const [flag, value, message] of [
    ['--public-url', 'ftp://outpost.example.org', "--public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got 'ftp://outpost.example.org'"],
    ['--public-url', 'https://outpost.example.org/?x=1', "--public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got 'https://outpost.example.org/?x=1'"],
    ['--max-upload-bytes', '0', '--max-upload-bytes (or OUTPOST_MAX_UPLOAD_BYTES): must be >= 1'],
    ['--max-upload-bytes', '1GB', '--max-upload-bytes (or OUTPOST_MAX_UPLOAD_BYTES): must be integer'],
  ] as const) {
    it(`refuses ${flag} ${value}`, () => {
      expect(errorMessage(() => loadServeConfig([...SERVE, flag, value], {}))).to.equal(message);
    });
  }
});
