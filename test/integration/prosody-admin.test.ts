import { expect } from 'chai';
import path from 'node:path';
import { luaString, runAdminCommands } from '../../dev/prosody-admin.js';
import { startTestProsody, TEST_DOMAIN, type TestProsody } from '../helpers/prosody.js';

describe("Prosody's admin socket, many commands in one call", function () {
  this.timeout(60_000);
  let server: TestProsody;
  let socket: string;

  before(async () => {
    server = await startTestProsody();
    socket = path.join(server.prosody.options.dir, 'admin.sock');
  });
  after(() => server.stop());

  it('answers a batch that takes longer than the timeout, as long as answers keep coming', async () => {
    const commands = Array.from({ length: 1500 }, (_, i) => `user:create(${luaString(`batch-${i}@${TEST_DOMAIN}`)}, "secret-${i}")`);
    const started = Date.now();
    const results = await runAdminCommands(socket, commands, 2500);
    expect(Date.now() - started, 'the batch outlasted the timeout').to.be.above(2500);
    expect(results.filter((r) => r.ok)).to.have.length(1500);
  });
});
