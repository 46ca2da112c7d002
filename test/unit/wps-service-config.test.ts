import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { forRun } from '../../agent/services/run-id.js';
import { readAnyServiceFile } from '../../agent/services/service-file.js';
import { createLineRules } from '../../agent/runner/line-rules.js';
import { expectingResult, useTempDir, writeScript } from '../helpers/temp-services.js';

const FILE = 'svc.config';
const DEFAULT = `[DEFAULT]
service = Svc
executable_path = ./code
executable_cmd = %(executable_path)s/run.sh --fixed
out = /srv/out
`;
const OUTPUT = `[Output1]
name = result
type = string
filepath = result.txt
`;

describe('WPS Remote service.config files', () => {
  const dir = useTempDir();
  const read = async (text: string) => {
    await writeScript(dir(), 'code/run.sh');
    await fs.writeFile(path.join(dir(), FILE), text);
    return readAnyServiceFile(dir(), FILE);
  };
  const { valid, reason } = expectingResult(read);

  it('interpolate %(name)s as Python does: own section, then DEFAULT, nested; %% is a percent sign', async () => {
    const { service } = await valid(`${DEFAULT}description = 100%% of %(where)s\nwhere = %(out)s/x\n[Output1]\nname = result\ntype = application/zip\nfilepath = %(out)s/%(unique_exe_id)s/r.zip\nout = /override\n`);
    expect(service.description).to.equal('100% of /srv/out/x');
    expect(forRun(service, 'job-1').outputs['result']!.from).to.deep.equal({ kind: 'operator-file', path: '/override/job-1/r.zip' });
    expect(await reason(`${DEFAULT}description = %(nowhere)s\n${OUTPUT}`)).to.equal("[DEFAULT] description: '%(nowhere)s' refers to a key that is not set");
  });

  it('make the part of workdir that holds the run\'s id that run\'s own directory, and refuse a workdir that climbs out of it', async () => {
    const { service } = await valid(`${DEFAULT}workdir = %(out)s/run-%(unique_exe_id)s/tiles\n${OUTPUT}`);
    expect(forRun(service, 'job-1').runDirs).to.deep.equal(['/srv/out/run-job-1']);
    expect(await reason(`${DEFAULT}workdir = %(out)s/%(unique_exe_id)s/..\n${OUTPUT}`)).to.equal(
      "[DEFAULT] workdir: the run's directory must keep %(unique_exe_id)s in its path (no '..' after it)",
    );
  });

  it('run the command from the file\'s folder and build the argument list from cmdline actions and consts, in section number order', async () => {
    const { service } = await valid(`${DEFAULT}
[Input1]
class = param
name = size
type = int
min = 1
[Const1]
class = const
name = run
type = string
value = %(unique_exe_id)s
[Action10]
class = cmdline
input_ref = run
template = --name=value
[Action2]
class = cmdline
input_ref = size
alias = s
template = -name value
${OUTPUT}`);
    expect(service.executable).to.equal(path.join(dir(), 'code', 'run.sh'));
    expect(forRun(service, 'job-1').arguments).to.deep.equal([
      { kind: 'word', word: '--fixed' },
      { kind: 'input', input: 'size', template: ['-s', '{value}'] },
      { kind: 'word', word: '--run=job-1' },
    ]);
    expect(service.inputs['size']).to.deep.equal({ type: 'integer', required: true, minOccurs: 1, maxOccurs: 1 });
  });

  it('map the input types it names to schemas, and take the timeout from max_running_time_seconds', async () => {
    const input = (n: number, type: string, extra = '') => `[Input${n}]\nclass = param\nname = i${n}\ntype = ${type}\nmin = 0\n${extra}`;
    const { service, notes } = await valid(
      `${DEFAULT}max_running_time_seconds = 7\n${input(1, 'int', 'default = 200\n')}${input(2, 'float')}${input(3, 'string')}${input(4, 'url')}${input(5, 'application/zip')}${OUTPUT}`,
    );
    expect(Object.values(service.inputs).map(({ type }) => type)).to.deep.equal(['integer', 'number', 'string', 'string', 'file']);
    expect(service.inputs['i5']!.mediaTypes).to.deep.equal(['application/zip']);
    expect(service.inputs['i1']!.default).to.equal(200);
    expect(service.timeoutSeconds).to.equal(7);
    expect(notes ?? []).to.deep.equal([]);
  });

  it('refuse an action class Outpost does not run, naming the section, and other mistakes with one line', async () => {
    const action = (body: string) => `${DEFAULT}[Input1]\nclass = param\nname = a\ntype = string\n[Action1]\n${body}\n${OUTPUT}`;
    expect(await reason(action('class = updateINIfile\ninput_ref = a'))).to.equal(
      "[Action1]: action class 'updateINIfile' is not run by Outpost (it writes files from inputs; pass the value on the command line with class cmdline)",
    );
    expect(await reason(action('class = cmdline\ninput_ref = b\ntemplate = -name value'))).to.equal("[Action1]: input_ref 'b' names no [Input] or [Const] section");
    expect(await reason(action('class = cmdline\ninput_ref = a\ntemplate = --x'))).to.equal("[Action1]: template '--x' names neither name nor value");
    expect(await reason(DEFAULT.replace('%(executable_path)s/run.sh', 'no-such-program'))).to.equal(
      "executable_cmd: program 'no-such-program' is not found in /usr/local/bin:/usr/bin:/bin",
    );
    expect(await reason(DEFAULT)).to.equal('a service.config must declare at least one [Output] section');
  });

  it('read [Logging] as line rules, with Python escapes of punctuation, each regex checked', async () => {
    const logging = (parser: string, action: string) => `${DEFAULT}${OUTPUT}[Logging]\nstdout_parser = ${parser}\nstdout_action = ${action}\n`;
    const { service } = await valid(logging('[.*\\[DEBUG\\](.*), .*ProgressInfo\\:([0-9.]+)\\%, .*\\[(INFO)\\](.*), .*\\[(ERROR)\\](.*)]', '[ignore, progress, log, abort]'));
    const apply = createLineRules(service.lineRules);
    expect(apply('x [DEBUG] detail')).to.deep.equal({ action: 'ignore' });
    expect(apply('[INFO] ProgressInfo:25.5%')).to.deep.equal({ action: 'progress', percent: 26 });
    expect(apply('12:00 [INFO] contouring ')).to.deep.equal({ action: 'log', message: 'contouring' });
    expect(apply('[ERROR] no input')).to.deep.equal({ action: 'abort', message: 'no input' });
    expect(apply('no rule matches this')).to.equal(undefined);
    expect(await reason(logging('[a, b]', '[log]'))).to.equal('[Logging]: stdout_parser lists 2 regexes but stdout_action 1 actions');
    expect(await reason(logging('[a]', '[shout]'))).to.equal("[Logging]: action 'shout' is not one of ignore, progress, log, abort");
    expect(await reason(logging('[a]', '[progress]'))).to.equal("[Logging]: stdout_parser 'a' needs a capture group for the percent");
    expect(await reason(logging('[(a)\\1]', '[log]'))).to.equal("[Logging]: stdout_parser '(a)\\1' uses a feature the linear-time engine does not support: backreference \\1");
  });

  it('note what they ignore: process_weight, publishing keys, unknown sections', async () => {
    const { notes } = await valid(`${DEFAULT}process_weight = {"weight": "10"}\n${OUTPUT}publish_as_layer = true\n[Extra]\nx = 1\n`);
    expect(notes).to.deep.equal([
      '[Output1]: publish_as_layer ignored (Outpost returns the file; it publishes no layers and uploads nowhere else)',
      "key 'process_weight' is ignored: Outpost balances by slots and max_parallel",
      'section [Extra] is ignored',
    ]);
  });
});
