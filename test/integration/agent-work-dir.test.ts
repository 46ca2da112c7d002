import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

describe('agent work directory: private to the agent user', function () {
  let cluster: Cluster;
  let tempDir: string;
  let workDir: string;

  before(async function () {
    cluster = await startCluster();
    tempDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-private-'));
    const servicesDir = path.join(tempDir, 'services');
    await mkdir(servicesDir);
    // The program reports the modes of its own folder, the folders above it, and what it made.
    await writeScript(servicesDir, 'bin/modes.sh', `echo data > out.txt && mkdir sub && stat -c '%a' "$PWD" .. ../.. ../../outbox out.txt sub | tr '\\n' ' '`);
    await writeProperties(servicesDir, 'modes.properties', {
      service: 'modes',
      executable: 'bin/modes.sh',
      outputs: JSON.stringify({ modes: { type: 'string', from: 'stdout' }, out: { type: 'file', from: 'file:out.txt' } }),
    });
    // A work directory left world-readable, as the agent once made them.
    workDir = path.join(tempDir, 'work');
    await mkdir(workDir);
    await chmod(workDir, 0o755);
    await cluster.addAgent('private', servicesDir, { workDir });
  });
  after(async function () {
    await cluster.stop();
    await rm(tempDir, { recursive: true, force: true });
  });

  it('runs programs in 0700 folders with a umask of 077, and makes an existing work directory 0700', async function () {
    const response = await cluster.api(`${cluster.orchestrator.url}/processes/modes/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).to.equal(200);
    const results = (await response.json()) as { modes: string };
    // job folder, jobs/, the work directory, outbox/, the program's file and its folder
    expect(results.modes.trim()).to.equal('700 700 700 700 600 700');
    expect(((await stat(workDir)).mode & 0o777).toString(8)).to.equal('700');
  });
});
