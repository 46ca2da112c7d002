import { expect } from 'chai';
import { AddressAllowlist, urlRefusal } from '../../net/address-guard.js';

describe('address guard (SSRF)', () => {
  const forbidden = 'a loopback, private, link-local or reserved address; callbacks go there only when --callback-allow lists it';

  it('refuses loopback, private, link-local, metadata, reserved and mapped addresses', () => {
    const none = new AddressAllowlist();
    for (const address of ['127.0.0.1', '10.0.0.5', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect(none.refusal('h', address), address).to.equal(forbidden);
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) expect(none.refusal('h', address), address).to.equal(undefined);
  });

  it('lets an operator allow hosts, addresses and networks', () => {
    const allow = new AddressAllowlist(['hooks.internal', '127.0.0.1', '10.1.0.0/16', 'fd00::/8']);
    expect(allow.refusal('HOOKS.internal', '10.9.9.9')).to.equal(undefined);
    expect(allow.refusal('h', '127.0.0.1')).to.equal(undefined);
    expect(allow.refusal('h', '127.0.0.2')).to.equal(forbidden);
    expect(allow.refusal('h', '10.1.200.3')).to.equal(undefined);
    expect(allow.refusal('h', '10.2.0.1')).to.equal(forbidden);
    expect(allow.refusal('h', 'fd12::1')).to.equal(undefined);
  });

  it('refuses an entry that is no host name, address or network, instead of allowing too much or nothing', () => {
    for (const entry of ['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/abc', 'fd00::/129', '10.0.0.300', 'http://files.internal', 'files.internal/16', '10.0.0.0/8/8', 'files internal']) {
      expect(() => new AddressAllowlist([entry]), entry).to.throw(`--callback-allow: '${entry}' is not a host name, an address or a network such as 10.1.0.0/16`);
    }
    expect(new AddressAllowlist(['0.0.0.0/0', 'files-1.internal', 'fd00::/128']).refusal('h', '10.9.9.9')).to.equal(undefined);
  });

  it('explains a refused URL in one phrase', async () => {
    const none = new AddressAllowlist();
    expect(await urlRefusal('not a url', none)).to.equal('is not a URL');
    expect(await urlRefusal('file:///etc/passwd', none)).to.equal('must be an http or https URL, not file:');
    expect(await urlRefusal('http://user:pw@example.org/', none)).to.equal('must not carry a user name or password');
    expect(await urlRefusal('http://localhost:8080/', none)).to.match(/^resolves to (127\.0\.0\.1|::1), a loopback/);
    expect(await urlRefusal('http://93.184.216.34/hook', none)).to.equal(undefined);
  });
});
