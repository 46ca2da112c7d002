import { expect } from 'chai';
import { loadAgentConfig } from '../../agent/config.js';
import { DEFAULT_FETCH_TIMEOUT_SECONDS, DEFAULT_MAX_FETCH_BYTES } from '../../agent/jobs/fetch-inputs.js';
import { errorMessage } from '../helpers/temp-services.js';

const AGENT = ['--server', 'xmpp://xmpp.example.org:5222', '--jid', 'a@example.org', '--password', 'p', '--services', '.'];
const FORBIDDEN = 'a loopback, private, link-local or reserved address; file inputs go there only when --fetch-allow lists it';

describe('agent config: how far file inputs are fetched from', () => {
  it('allows no private address, 1 GiB and five minutes by default', () => {
    const { fetchLimits } = loadAgentConfig(AGENT, {});
    expect(fetchLimits!.maxBytes).to.equal(DEFAULT_MAX_FETCH_BYTES);
    expect(fetchLimits!.timeoutMs).to.equal(DEFAULT_FETCH_TIMEOUT_SECONDS * 1000);
    expect(fetchLimits!.allow.refusal('files.internal', '10.0.0.7')).to.equal(FORBIDDEN);
  });

  it('takes the allowlist and limits from flags before the environment', () => {
    const env = { OUTPOST_AGENT_FETCH_ALLOW: 'other.internal', OUTPOST_AGENT_MAX_FETCH_BYTES: '5', OUTPOST_AGENT_FETCH_TIMEOUT: '7' };
    const { fetchLimits } = loadAgentConfig([...AGENT, '--fetch-allow', 'files.internal, 10.1.0.0/16', '--max-fetch-bytes', '1000'], env);
    expect(fetchLimits!.allow.refusal('files.internal', '10.0.0.7')).to.equal(undefined);
    expect(fetchLimits!.allow.refusal('x', '10.1.2.3')).to.equal(undefined);
    expect(fetchLimits!.allow.refusal('other.internal', '10.0.0.7')).to.equal(FORBIDDEN);
    expect(fetchLimits!.maxBytes).to.equal(1000);
    expect(fetchLimits!.timeoutMs).to.equal(7000);
  });

  it('refuses an allowed entry that is no host name, address or network', () => {
    expect(errorMessage(() => loadAgentConfig([...AGENT, '--fetch-allow', 'https://files.internal'], {}))).to.equal(
      "--fetch-allow: 'https://files.internal' is not a host name, an address or a network such as 10.1.0.0/16",
    );
  });

  it('refuses a limit that is not a positive number', () => {
    expect(errorMessage(() => loadAgentConfig([...AGENT, '--max-fetch-bytes', '1.5'], {}))).to.equal('--max-fetch-bytes must be a positive whole number of bytes (got 1.5)');
    expect(errorMessage(() => loadAgentConfig([...AGENT, '--fetch-timeout', '0'], {}))).to.equal('--fetch-timeout must be a positive number of seconds (got 0)');
  });
});
