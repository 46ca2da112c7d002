import { expect } from 'chai';
import { mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyExamples } from '../helpers/examples.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';

interface ProcessList {
  processes: { id: string; title?: string; version: string }[];
}
interface AgentList {
  agents: { jid: string; processes: { id: string }[]; invalid: { file: string; reason: string }[]; load: { slots: number } }[];
}


async function servicesFolder(...examplesToCopy: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
  await copyExamples(dir, ...examplesToCopy);
  return dir;
}

describe('fabric: agents publish services.d through a private Prosody', function () {
  let cluster: Cluster;
  const folders: string[] = [];

  beforeEach(async function () {
    cluster = await startCluster();
  });
  afterEach(async function () {
    await cluster.stop();
    await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const get = async <T>(route: string): Promise<T> => {
    const response = await cluster.adminApi(`${cluster.orchestrator.url}${route}`);
    expect(response.status, route).to.equal(200);
    return (await response.json()) as T;
  };
  const processIds = async () => (await get<ProcessList>('/processes')).processes.map((p) => p.id);
  const folder = async (...names: string[]) => {
    const dir = await servicesFolder(...names);
    folders.push(dir);
    return dir;
  };

  it('lists the processes of an agent once it has announced itself', async function () {
    const dir = await folder('noop', 'fail', 'echo');
    const agent = await cluster.addAgent('alpha', dir);
    expect(await processIds()).to.deep.equal(['echo', 'fail', 'noop']);
    const description = await get<{ id: string; inputs: Record<string, { schema: unknown; minOccurs: number }> }>('/processes/echo');
    expect(description.id).to.equal('echo');
    expect(description.inputs['echo']).to.deep.include({ schema: { type: 'string', maxLength: 10000 }, minOccurs: 1 });
    const agents = await get<AgentList>('/admin/agents');
    expect(agents.agents.map((a) => a.jid)).to.deep.equal([agent.jid]);
    expect(agents.agents[0]!.load.slots).to.equal(2);
  });

  it('shows a dropped, edited and deleted properties file in under a second, without restart', async function () {
    const dir = await folder('noop');
    await cluster.addAgent('beta', dir);
    const file = path.join(dir, 'hello.properties');

    let started = Date.now();
    await writeFile(file, 'service = hello\ntitle = Hello\nexecutable = /bin/echo\ncustomargs = hello\n');
    await eventually(async () => ((await processIds()).includes('hello') ? true : undefined), 1000, 'hello listed');
    expect(Date.now() - started).to.be.below(1000);

    started = Date.now();
    await writeFile(file, 'service = hello\ntitle = Hello again\nversion = 2.0.0\nexecutable = /bin/echo\n');
    const edited = await eventually(async () => {
      const hello = (await get<ProcessList>('/processes')).processes.find((p) => p.id === 'hello');
      return hello?.version === '2.0.0' ? hello : undefined;
    }, 1000, 'hello edited');
    expect(edited.title).to.equal('Hello again');
    expect(Date.now() - started).to.be.below(1000);

    started = Date.now();
    await unlink(file);
    await eventually(async () => ((await processIds()).includes('hello') ? undefined : true), 1000, 'hello gone');
    expect(Date.now() - started).to.be.below(1000);
    expect(await processIds()).to.deep.equal(['noop']);
  });

  it('reports broken files with their reason and keeps offering the valid ones', async function () {
    const dir = await folder('noop');
    await cluster.addAgent('gamma', dir);
    await writeFile(path.join(dir, 'a-syntax.properties'), 'this line has no key value separator but service is missing\n');
    await writeFile(path.join(dir, 'b-inputs.properties'), 'service = b\nexecutable = /bin/echo\ninputs = {"x": {"type": "strin"}\n');
    await writeFile(path.join(dir, 'c-missing.properties'), 'service = c\nexecutable = /no/such/program\n');
    await writeFile(path.join(dir, 'd-unknown.properties'), 'service = d\nexecutable = /bin/echo\ncolour = blue\n');
    const invalid = await eventually(async () => {
      const [agent] = (await get<AgentList>('/admin/agents')).agents;
      return agent && agent.invalid.length === 4 ? agent.invalid : undefined;
    }, 1000, 'four invalid files');
    expect(invalid.map((i) => i.file)).to.deep.equal(['a-syntax.properties', 'b-inputs.properties', 'c-missing.properties', 'd-unknown.properties']);
    expect(invalid[0]!.reason).to.match(/unknown key|missing required key 'service'/);
    expect(invalid[1]!.reason).to.match(/^'inputs' is not valid JSON/);
    expect(invalid[2]!.reason).to.equal("executable '/no/such/program' does not exist");
    expect(invalid[3]!.reason).to.equal("unknown key 'colour'");
    expect(await processIds()).to.deep.equal(['noop']);
  });

  it('lists the union of two agents and drops the processes of one that stops', async function () {
    const first = await cluster.addAgent('one', await folder('noop', 'echo'));
    await cluster.addAgent('two', await folder('fail', 'echo'));
    expect(await processIds()).to.deep.equal(['echo', 'fail', 'noop']);
    const offered = cluster.orchestrator.registry.process('echo');
    expect(offered?.agents).to.have.length(2);
    await first.stop(0);
    await eventually(async () => ((await processIds()).includes('noop') ? undefined : true), 2000, 'noop gone');
    expect(await processIds()).to.deep.equal(['echo', 'fail']);
    expect(cluster.orchestrator.registry.process('echo')?.agents).to.have.length(1);
  });
});
