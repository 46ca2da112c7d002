import { expect } from 'chai';
import { loadAgentConfig } from '../../agent/config.js';
import { systemdUnit } from '../../agent/systemd-unit.js';
import { errorMessage } from '../helpers/temp-services.js';

const REST = ['--jid', 'a@example.org', '--password', 'p', '--services', '.'];
const NODES = 'xmpp://node1.example.org:5222,xmpp://node2.example.org:5222';
const PIN = 'AB'.repeat(32);

describe('agent config: the XMPP servers of a cluster', () => {
  it('takes one server, or the nodes of a cluster in order, from the flag or the environment', () => {
    expect(loadAgentConfig(['--server', 'xmpp://xmpp.example.org:5222', ...REST], {}).servers).to.deep.equal(['xmpp://xmpp.example.org:5222']);
    expect(loadAgentConfig(['--server', 'xmpp://node2.example.org:5222, xmpp://node1.example.org:5222', ...REST], {}).servers).to.deep.equal([
      'xmpp://node2.example.org:5222',
      'xmpp://node1.example.org:5222',
    ]);
    expect(loadAgentConfig(REST, { OUTPOST_AGENT_SERVER: NODES }).servers).to.deep.equal(NODES.split(','));
  });

  it('pins the same certificates for every server of the list', () => {
    const { servers, serverTrust } = loadAgentConfig(['--server', NODES, '--server-fingerprint', PIN, ...REST], {});
    expect(servers).to.have.length(2);
    expect(serverTrust!.fingerprints).to.deep.equal([PIN]);
  });

  it('refuses an empty item, a URL that is not xmpp:// and a server named twice, in one line', () => {
    const refusal = (server: string) => errorMessage(() => loadAgentConfig(['--server', server, ...REST], {}));
    expect(refusal('xmpp://node1.example.org:5222,,xmpp://node2.example.org:5222')).to.equal(
      '--server has an empty item in "xmpp://node1.example.org:5222,,xmpp://node2.example.org:5222"; separate xmpp://host:port items by single commas',
    );
    expect(refusal('xmpp://node1.example.org:5222,')).to.match(/^--server has an empty item in /);
    expect(refusal('xmpp://node1.example.org:5222,https://node2.example.org')).to.equal(
      '--server must look like xmpp://host:5222, or several of those comma-separated (got "https://node2.example.org")',
    );
    expect(refusal('xmpp://node1.example.org:5222,xmpp://NODE1.example.org:5222')).to.equal('--server names xmpp://NODE1.example.org:5222 twice');
  });

  it('refuses a pin when any server of the list is xmpps://', () => {
    expect(errorMessage(() => loadAgentConfig(['--server', 'xmpp://node1.example.org:5222,xmpps://node2.example.org:5223', '--server-fingerprint', PIN, ...REST], {}))).to.equal(
      '--server-fingerprint and --ca-file apply to xmpp:// (STARTTLS); give --server xmpp://HOST:PORT',
    );
  });

  it('pings every 10 s unless told, to notice a silent server; refuses an interval that is not a positive number', () => {
    expect(loadAgentConfig(['--server', NODES, ...REST], {}).pingIntervalMs).to.equal(10_000);
    expect(loadAgentConfig(['--server', NODES, ...REST], { OUTPOST_AGENT_PING_INTERVAL: '0.5' }).pingIntervalMs).to.equal(500);
    expect(errorMessage(() => loadAgentConfig(['--server', NODES, '--ping-interval', '0', ...REST], {}))).to.equal('--ping-interval must be a positive number of seconds (got 0)');
  });

  it('keeps the list in the systemd unit it prints', () => {
    const config = loadAgentConfig(['--print-systemd-unit', '--server', 'xmpp://node1.example.org:5222 , xmpp://node2.example.org:5222', '--jid', 'a@example.org', '--services', '/srv/services'], {});
    const unit = systemdUnit({ command: ['/usr/bin/node', '/usr/bin/outpost-agent'], flags: config.systemdUnitFlags!, workDir: config.workDir, stopGraceSeconds: 30 });
    expect(unit).to.include(`ExecStart=/usr/bin/node /usr/bin/outpost-agent --server ${NODES} --jid a@example.org`);
  });
});
