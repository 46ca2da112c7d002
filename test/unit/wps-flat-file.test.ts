import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readAnyServiceFile } from '../../agent/services/service-file.js';
import { isWpsFlatFile } from '../../agent/services/wps-flat-file.js';
import { expectingResult, useTempDir, writeScript } from '../helpers/temp-services.js';

const FILE = 'greet.properties';
const HEAD = 'service = greet\nexecutable = run.sh\n';

describe('WPS Remote flat files', () => {
  const dir = useTempDir();
  const read = async (body: string) => {
    await writeScript(dir(), 'run.sh');
    await fs.writeFile(path.join(dir(), FILE), HEAD + body);
    return readAnyServiceFile(dir(), FILE);
  };
  const { valid, reason } = expectingResult(read);
  const OUTPUT = 'welcome = {"type": "string"}\n';

  it('are told apart by a key only WPS Remote has, or by an input or output declared as a JSON value', () => {
    expect(isWpsFlatFile('service = a\nprocess_buffer = 0\n')).to.equal(true);
    expect(isWpsFlatFile('service = a\nname = {"type": "string"}\n')).to.equal(true);
    expect(isWpsFlatFile('service = a\ninputs = {"name": {"type": "string"}}\n')).to.equal(false);
    expect(isWpsFlatFile('servcie = a\n')).to.equal(false);
    expect(isWpsFlatFile('service = a\ninputs = { \\\n  "echo": { "type": "string" } \\\n}\n')).to.equal(false);
  });

  it('keep backslashes as written: a Windows path in customargs, \\d in progress', async () => {
    const { service } = await valid(`customargs = --path=D:\\user\\ "two words"\nprogress = ^STEP (\\d+)\n${OUTPUT}`);
    expect(service.customArgs).to.deep.equal(['--path=D:\\user\\', '"two', 'words"']);
    expect(service.progress).to.equal('^STEP (\\d+)');
  });

  it('read a JSON value over several lines until its braces close, and min/max as occurrences', async () => {
    const { service } = await valid(`name = {"type": "string", "enum": ["Hans", "}"],\n  "default": "Hans", "max": 1}\nchild = {"type": "string", "min": 0, "max": 10}\n${OUTPUT}`);
    expect(service.inputs).to.deep.equal({
      name: { type: 'string', enum: ['Hans', '}'], default: 'Hans', required: false, minOccurs: 0, maxOccurs: 1 },
      child: { type: 'string', required: false, minOccurs: 0, maxOccurs: 10 },
    });
    expect(service.outputs).to.deep.equal({ welcome: { type: 'string', from: { kind: 'file', path: 'welcome' } } });
  });

  it('take the WPS Remote argformat spellings and active = True', async () => {
    expect((await valid(`argformat = -key value\nactive = True\n${OUTPUT}`)).service.argFormat).to.equal('-{key} {value}');
    expect((await valid(`argformat = --key=value\n${OUTPUT}`)).service.argFormat).to.equal('--{key}={value}');
    expect(await read(`active = False\n${OUTPUT}`)).to.deep.equal({ status: 'inactive', file: FILE });
  });

  it('list keys that do not apply as notes instead of refusing them', async () => {
    const { notes } = await valid(`process_buffer = 0\nresult_size = 0\ndebug = True\nname = {"type": "int", "max": 1, "input_mime_type": "text/plain"}\n${OUTPUT}`);
    expect(notes).to.deep.equal([
      "key 'process_buffer' is ignored: Outpost runs as many at once as the agent has slots (max_parallel)",
      "key 'result_size' is ignored: results are sent whatever their size, within the upload limit",
      "key 'debug' is ignored: the agent logs at its own --log-level",
      "input 'name': 'input_mime_type' is ignored (no use in Outpost)",
    ]);
  });

  it('let outputs = … name the outputs, so an input needs no min or max', async () => {
    const { service } = await valid(`outputs = welcome\nname = {"type": "string"}\nwelcome = {"type": "string", "filepath": "out/w.txt"}\n`);
    expect(Object.keys(service.inputs)).to.deep.equal(['name']);
    expect(service.inputs['name']!.required).to.equal(true);
    expect(service.outputs['welcome']!.from).to.deep.equal({ kind: 'file', path: 'out/w.txt' });
  });

  it('refuse what they cannot publish with one line naming the key', async () => {
    expect(await reason('name = {"type": "string",\n"max": 1\n')).to.equal("'name' (line 3): its JSON value never closes");
    expect(await reason(`colour = blue\n${OUTPUT}`)).to.equal("unknown key 'colour'");
    expect(await reason(`outputs = farewell\n${OUTPUT}`)).to.equal("'outputs' names 'farewell', which is not declared");
    expect(await reason('name = {"type": "string", "max": 1}\n')).to.equal('a WPS Remote file must declare at least one output');
    expect(await reason(`name = {"type": "colour", "max": 1}\n${OUTPUT}`)).to.equal(
      "input 'name': type 'colour' is not one of int, float, string, url, datetime, boolean or a media type",
    );
    expect(await reason(`name = {"type": "string", "min": 2, "max": 1}\n${OUTPUT}`)).to.equal("input 'name': min must not be greater than max");
    expect(await reason('welcome = {"type": "string", "filepath": "/etc/passwd"}\n')).to.equal("output 'welcome': filepath must be relative to the run's work directory");
  });
});
