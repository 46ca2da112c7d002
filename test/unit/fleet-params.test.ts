import { expect } from 'chai';
import { loadFleetParams } from '../../bench/fleet-params.js';
import { errorMessage } from '../helpers/temp-services.js';

describe('fleet bench parameters: the XMPP server', () => {
  it('runs against Prosody by default, and against ejabberd when asked by flag or environment', () => {
    expect(loadFleetParams([], {}).xmppServer).to.equal('prosody');
    expect(loadFleetParams(['--xmpp-server', 'ejabberd'], {}).xmppServer).to.equal('ejabberd');
    expect(loadFleetParams([], { BENCH_FLEET_XMPP_SERVER: 'ejabberd' }).xmppServer).to.equal('ejabberd');
    expect(loadFleetParams(['--xmpp-server', 'prosody'], { BENCH_FLEET_XMPP_SERVER: 'ejabberd' }).xmppServer).to.equal('prosody');
  });

  it('refuses another server in one line naming the flag and the choices', () => {
    expect(errorMessage(() => loadFleetParams(['--xmpp-server', 'openfire'], {}))).to.equal("--xmpp-server must be 'prosody' or 'ejabberd' (got 'openfire')");
    expect(errorMessage(() => loadFleetParams([], { BENCH_FLEET_XMPP_SERVER: 'Ejabberd' }))).to.equal("--xmpp-server must be 'prosody' or 'ejabberd' (got 'Ejabberd')");
  });
});
