import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, submitJob, type Cluster } from '../helpers/cluster.js';
import { fixture } from '../helpers/paths.js';

interface StatusInfo {
  jobID: string;
  status: string;
  message?: string;
  progress?: number;
}

/** A service.config whose one action WPS Remote runs by writing a file, which Outpost does not do. */
const COPYFILE_CONFIG = `[DEFAULT]
service = Copier
executable_cmd = /bin/true

[Input1]
class = param
name = text
type = string

[Action1]
class = copyfile
source_filepath = a.txt
target_filepath = b.txt

[Output1]
name = copy
type = string
filepath = b.txt
`;

describe('WPS Remote service files, as their users already have them', function () {
  let cluster: Cluster;
  let servicesDir: string;

  before(async function () {
    this.timeout(30_000);
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-wps-'));
    await cp(fixture('wps-remote', 'flat', 'service.properties'), path.join(servicesDir, 'greeting.properties'));
    await cp(fixture('wps-remote', 'flat', 'process.py'), path.join(servicesDir, 'process.py'));
    await cp(fixture('wps-remote', 'myservice'), path.join(servicesDir, 'myservice'), { recursive: true });
    await writeFile(path.join(servicesDir, 'copier.config'), COPYFILE_CONFIG);
    await cluster.addAgent('wps', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const json = async <T>(response: Response) => (await response.json()) as T;
  const submit = (process: string, inputs: Record<string, unknown>) => submitJob(cluster, process, inputs);
  const status = async (jobId: string) => json<StatusInfo>(await cluster.api(url(`/jobs/${jobId}`)));
  const finished = (jobId: string) =>
    eventually(async () => {
      const info = await status(jobId);
      return ['successful', 'failed', 'dismissed'].includes(info.status) ? info : undefined;
    }, 15_000, `job ${jobId} finished`);

  it('publishes the documentation\'s flat example: JSON inputs, welcome and goodbye as outputs', async function () {
    const description = await json<{ inputs: Record<string, { schema: Record<string, unknown>; minOccurs: number }>; outputs: Record<string, unknown> }>(
      await cluster.api(url('/processes/default:Service')),
    );
    expect(Object.keys(description.inputs)).to.deep.equal(['name', 'surname', 'child']);
    expect(description.inputs['name']!.schema).to.deep.include({ type: 'string', enum: ['Hans', 'Peter', 'Alex', 'Michi'], default: 'Hans' });
    expect(description.inputs['child']!.minOccurs).to.equal(0);
    expect(Object.keys(description.outputs)).to.deep.equal(['welcome', 'goodbye']);
  });

  it('runs the flat example with --key=value arguments and its Windows path kept literally', async function () {
    const jobId = await submit('default:Service', { name: 'Peter', child: 'Anna' });
    expect((await finished(jobId)).status).to.equal('successful');
    const results = await json<Record<string, unknown>>(await cluster.api(url(`/jobs/${jobId}/results`)));
    expect(results).to.deep.equal({ welcome: 'Welcome, Peter Meier (files in D:\\user\\)', goodbye: 'Goodbye, Peter and Anna' });
  });

  it('lists the keys it ignores as notes in /admin/agents, and a refused action class as the reason for that file alone', async function () {
    type AgentView = { notes: { file: string; note: string }[]; invalid: { file: string; reason: string }[]; processes: { id: string }[] };
    const [agent] = (await json<{ agents: AgentView[] }>(await cluster.adminApi(url('/admin/agents')))).agents;
    expect(agent!.notes).to.deep.include({ file: 'greeting.properties', note: "key 'process_buffer' is ignored: Outpost runs as many at once as the agent has slots (max_parallel)" });
    expect(agent!.notes).to.deep.include({ file: 'myservice/service.config', note: "key 'process_weight' is ignored: Outpost balances by slots and max_parallel" });
    expect(agent!.invalid).to.deep.equal([
      {
        file: 'copier.config',
        reason: "[Action1]: action class 'copyfile' is not run by Outpost (it writes files from inputs; pass the value on the command line with class cmdline)",
      },
    ]);
    expect(agent!.processes.map(({ id }) => id).sort()).to.deep.equal(['default:Contour', 'default:Service']);
  });

  it('runs a service.config: cmdline actions and consts, progress and log lines from [Logging], its filepath outputs', async function () {
    const jobId = await submit('default:Contour', { pause: 0.6 });
    const running = await eventually(async () => {
      const info = await status(jobId);
      return info.progress === 50 ? info : undefined;
    }, 10_000, 'progress 50 from a ProgressInfo line');
    expect(running.status).to.equal('running');
    const runDir = path.join('/tmp', `outpost-wps-${jobId}`);
    expect(existsSync(runDir)).to.equal(true);
    expect((await finished(jobId)).status).to.equal('successful');

    const results = await json<Record<string, unknown>>(await cluster.api(url(`/jobs/${jobId}/results`)));
    expect(results['summary']).to.equal(`run ${jobId}: contours every 200 m`);
    const zip = await cluster.api(url(`/jobs/${jobId}/results/result1`));
    expect(zip.headers.get('content-type')).to.equal('application/zip');
    expect(Buffer.from(await zip.arrayBuffer()).subarray(0, 2).toString()).to.equal('PK');
    await eventually(() => (existsSync(runDir) ? undefined : true), 2000, 'per-run directory removed');
  });

  it('shows a log line as the job\'s message', async function () {
    const jobId = await submit('default:Contour', { pause: 0.6, source: 'https://example.org/dem.tif' });
    const info = await eventually(async () => {
      const current = await status(jobId);
      return current.message === 'contouring https://example.org/dem.tif every 200 m' ? current : undefined;
    }, 10_000, 'the log line as message');
    expect(info.status).to.equal('running');
    await finished(jobId);
  });

  it('fails the job with the matched text on an abort line, without waiting for the program', async function () {
    const started = Date.now();
    const jobId = await submit('default:Contour', { interval: -5 });
    const info = await finished(jobId);
    expect(info.status).to.equal('failed');
    expect(Date.now() - started).to.be.below(10_000);
    const problem = await json<{ detail: string }>(await cluster.api(url(`/jobs/${jobId}/results`)));
    expect(problem.detail).to.equal(`job '${jobId}' failed (aborted): interval must be positive, not -5`);
  });
});
