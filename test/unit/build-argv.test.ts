import { expect } from 'chai';
import { buildArgv } from '../../agent/runner/build-argv.js';
import type { ArgFormat, ServiceDefinition } from '../../agent/services/service-definition.js';

const inputs: ServiceDefinition['inputs'] = {
  name: { type: 'string' },
  count: { type: 'integer', default: 2 },
  verbose: { type: 'boolean', required: false },
  ratio: { type: 'number', required: false },
};

function service(argFormat: ArgFormat, customArgs: string[] = []) {
  return { argFormat, customArgs, inputs };
}

describe('buildArgv', () => {
  it('writes --key=value after the custom arguments, in declaration order, with defaults', () => {
    const result = buildArgv(service('--{key}={value}', ['run', '--fast']), { verbose: true, name: 'a b' });
    expect(result).to.deep.equal({ ok: true, args: ['run', '--fast', '--name=a b', '--count=2', '--verbose=true'] });
  });

  it('writes --key value as two arguments', () => {
    const result = buildArgv(service('--{key} {value}'), { name: 'x', count: 7, ratio: 0.5 });
    expect(result).to.deep.equal({ ok: true, args: ['--name', 'x', '--count', '7', '--ratio', '0.5'] });
  });

  it('writes -key value as two arguments', () => {
    const result = buildArgv(service('-{key} {value}'), { name: 'x', verbose: false });
    expect(result).to.deep.equal({ ok: true, args: ['-name', 'x', '-count', '2', '-verbose', 'false'] });
  });

  it('writes positional values in declaration order; an absent optional input leaves no argument, not an empty one', () => {
    const result = buildArgv(service('positional', ['sub']), { ratio: 1.25, name: 'x' });
    expect(result).to.deep.equal({ ok: true, args: ['sub', 'x', '2', '1.25'] });
  });

  it('writes the inputs with defaults as one JSON line on stdin for stdin-json', () => {
    const result = buildArgv(service('stdin-json', ['--json']), { verbose: true, name: '$(id)' });
    expect(result).to.deep.equal({ ok: true, args: ['--json'], stdin: '{"name":"$(id)","count":2,"verbose":true}\n' });
  });

  it('keeps an input named __proto__ in stdin-json', () => {
    const result = buildArgv({ argFormat: 'stdin-json', customArgs: [], inputs: { ['__proto__']: { type: 'string' } } }, JSON.parse('{"__proto__":"x"}'));
    expect(result).to.deep.equal({ ok: true, args: [], stdin: '{"__proto__":"x"}\n' });
  });

  it('passes shell metacharacters, quotes and newlines through as they are', () => {
    const nasty = `; rm -rf / && echo "$(id)" 'q' \`id\` | cat > x\nline2 *`;
    expect(buildArgv(service('--{key}={value}'), { name: nasty })).to.deep.equal({
      ok: true,
      args: [`--name=${nasty}`, '--count=2'],
    });
    expect(buildArgv(service('positional'), { name: nasty })).to.deep.equal({ ok: true, args: [nasty, '2'] });
  });

  it('refuses an input the service does not declare', () => {
    expect(buildArgv(service('--{key}={value}'), { name: 'x', x: 1 })).to.deep.equal({ ok: false, message: "unknown input 'x'" });
  });

  it('refuses values that are not of the declared type', () => {
    for (const value of [{ a: 1 }, [1], null, Number.NaN, 3]) {
      expect(buildArgv(service('--{key}={value}'), { name: value })).to.deep.equal({
        ok: false,
        message: "input 'name' must be a string",
      });
    }
  });

  it('refuses a missing required input', () => {
    expect(buildArgv(service('positional'), { count: 1 })).to.deep.equal({ ok: false, message: "input 'name' is required" });
  });

  it('refuses a NUL character in an argument, but not in stdin-json', () => {
    expect(buildArgv(service('-{key} {value}'), { name: 'a\0b' })).to.deep.equal({
      ok: false,
      message: "input 'name' must not contain a NUL character",
    });
    expect(buildArgv(service('stdin-json'), { name: 'a\0b' })).to.deep.equal({
      ok: true,
      args: [],
      stdin: '{"name":"a\\u0000b","count":2}\n',
    });
  });
});

describe('buildArgv and values that start with a dash', () => {
  const refusal = { ok: false, message: "input 'name' must not start with '-' (the program would read it as an option)" };

  it('refuses them where they become an argument of their own, and only there', () => {
    for (const format of ['positional', '--{key} {value}', '-{key} {value}'] as const) {
      expect(buildArgv(service(format), { name: '--output=/etc/passwd' }), format).to.deep.equal(refusal);
    }
    expect(buildArgv(service('--{key}={value}'), { name: '-x' })).to.deep.equal({ ok: true, args: ['--name=-x', '--count=2'] });
    expect(buildArgv(service('stdin-json'), { name: '-x' })).to.deep.include({ ok: true, stdin: '{"name":"-x","count":2}\n' });
    expect(buildArgv(service('-{key} {value}'), { name: 'x', count: -3, ratio: -122.5 })).to.deep.equal({
      ok: true,
      args: ['-name', 'x', '-count', '-3', '-ratio', '-122.5'],
    });
  });

  it('refuses a default that starts with a dash too', () => {
    const withDefault = { argFormat: 'positional' as const, customArgs: [], inputs: { name: { type: 'string' as const, default: '-l' } } };
    expect(buildArgv(withDefault, {})).to.deep.equal(refusal);
  });

  it('passes them for an input that allows them', () => {
    const allowing = { ...service('-{key} {value}'), inputs: { ...inputs, name: { type: 'string' as const, allowDash: true } } };
    expect(buildArgv(allowing, { name: '-badopt' })).to.deep.equal({ ok: true, args: ['-name', '-badopt', '-count', '2'] });
    expect(buildArgv(service('-{key} {value}'), { name: '-badopt' })).to.deep.equal(refusal);
  });

  it('passes them after a -- when the service asks for one, which goes after the custom arguments', () => {
    const ended = { ...service('positional', ['-l']), endOfOptions: true };
    expect(buildArgv(ended, { name: '--help' })).to.deep.equal({ ok: true, args: ['-l', '--', '--help', '2'] });
    expect(buildArgv({ ...ended, inputs: {} }, {})).to.deep.equal({ ok: true, args: ['-l'] });
  });
});
