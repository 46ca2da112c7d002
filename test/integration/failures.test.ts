import { expect } from 'chai';
import { chmod, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitUntilGone } from '../helpers/process-tree.js';

interface StatusInfo {
  jobID: string;
  status: string;
  message?: string;
  created: string;
}

/** Every job of this suite must end within it; each test's program ends sooner, except the one that is to pass it. */
const JOB_DEADLINE_SECONDS = 1.5;

describe('failures reach the client with a cause a person can act on', function () {
  let cluster: Cluster;
  let servicesDir: string;
  let doomed: string;

  before(async function () {
    cluster = await startCluster({ jobDeadline: JOB_DEADLINE_SECONDS });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    doomed = path.join(servicesDir, 'doomed.sh');
    await writeFile(doomed, '#!/bin/sh\necho never\n');
    await chmod(doomed, 0o755);
    await writeFile(path.join(servicesDir, 'sleepy.properties'), 'service = sleepy\nexecutable = /bin/sleep\ncustomargs = 5\ntimeout = 0.3\n');
    await writeFile(path.join(servicesDir, 'exit.properties'), 'service = exit\nexecutable = /bin/sh\ncustomargs = -c "echo disk full >&2; exit 7"\n');
    await writeFile(path.join(servicesDir, 'forgetful.properties'), 'service = forgetful\nexecutable = /bin/true\noutputs = {"map": {"type": "file", "from": "file:out/map.tif", "mediaType": "image/tiff"}}\n');
    await writeFile(path.join(servicesDir, 'doomed.properties'), `service = doomed\nexecutable = ${doomed}\n`);
    await writeFile(path.join(servicesDir, 'napper.properties'), `service = napper\nexecutable = /bin/sh\ncustomargs = -c "echo $$ > ${path.join(servicesDir, 'napper.pid')}; exec sleep 30"\n`);
    await cluster.addAgent('faulty', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  async function failedJob(process: string): Promise<StatusInfo> {
    const created = await cluster.api(`${cluster.orchestrator.url}/processes/${process}/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{}',
    });
    const { jobID } = (await created.json()) as StatusInfo;
    const info = await eventually(async () => {
      const status = (await (await cluster.api(`${cluster.orchestrator.url}/jobs/${jobID}`)).json()) as StatusInfo;
      return status.status === 'failed' ? status : undefined;
    }, 5000, `${process} failed`);
    const results = await cluster.api(`${cluster.orchestrator.url}/jobs/${jobID}/results`);
    expect(results.status).to.be.within(400, 599);
    expect(((await results.json()) as { detail: string }).detail).to.include(info.message!);
    return info;
  }
  const failureOf = async (process: string) => (await failedJob(process)).message;

  it('says a program timed out', async function () {
    expect(await failureOf('sleepy')).to.equal("timed out after 0.3 s (the service's timeout)");
  });

  it('says a program ran past the job deadline the orchestrator sent in execute, and ends it', async function () {
    const info = await failedJob('napper');
    const deadline = new Date(Date.parse(info.created) + JOB_DEADLINE_SECONDS * 1000).toISOString();
    expect(info.message).to.match(/^timed out after \d+(\.\d)? s \(the job's deadline, (.*)\)$/);
    expect(info.message).to.include(`(the job's deadline, ${deadline})`);
    const pid = Number(await readFile(path.join(servicesDir, 'napper.pid'), 'utf8'));
    expect(await waitUntilGone(pid, 1000), 'the program is gone').to.equal(true);
  });

  it('says a program exited with an error, with its last line of stderr', async function () {
    expect(await failureOf('exit')).to.equal('exited with code 7: disk full');
  });

  it('says which declared output file was not created', async function () {
    expect(await failureOf('forgetful')).to.equal("output 'map': file 'out/map.tif' was not created");
  });

  it('says the executable is gone when it disappears after publishing', async function () {
    await unlink(doomed);
    expect(await failureOf('doomed')).to.equal(`executable '${doomed}' not found`);
  });
});
