import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AGENT_USAGE, OPTIONS } from '../../agent/config.js';
import { USAGE } from '../../cli/outpost.js';
import { COMMAND_SETTINGS } from '../../src/config.js';
import { repoRoot } from '../helpers/paths.js';

/** Options the README shows that belong to other programs, with whose they are. */
const OTHER_PROGRAMS: Record<string, string> = {
  '--prefix': 'npm install',
  '--cafile': 'npm install',
  '--system': 'useradd',
  '--no-create-home': 'useradd',
  '--now': 'systemctl enable',
  '--output': "a program's own option, in the argument format example",
  '--key': "WPS Remote's argformat",
  '--path': "a WPS Remote program's own option",
  '--no-config': 'mocha, running the fuzz tests alone',
  '--data-binary': 'curl',
};

const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((match) => match[0]);

/**
 * The flags the README shows for each program: those of an `outpost-agent` command line (with
 * its continuation lines) or inline `outpost-agent …` code are the agent's, the rest `outpost`'s.
 */
function readmeFlags(): { outpost: Set<string>; agent: Set<string> } {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const outpost = new Set<string>();
  const agent = new Set<string>();
  let continued = false;
  for (const line of readme.split('\n')) {
    const commandLine: boolean = continued || /^\s*(sudo\s+)?outpost-agent\b/.test(line);
    continued = commandLine && line.trimEnd().endsWith('\\');
    const agentParts = commandLine ? [line] : [...line.matchAll(/`(sudo )?outpost-agent\b[^`]*`/g)].map((match) => match[0]);
    for (const flag of agentParts.flatMap(flagsIn)) agent.add(flag);
    const rest = agentParts.reduce((text, part) => text.replace(part, ''), line);
    for (const flag of flagsIn(rest)) if (!(flag in OTHER_PROGRAMS)) outpost.add(flag);
  }
  return { outpost, agent };
}

/** The lines of the usage text for one `outpost` command, up to the next command. */
function usageOf(command: 'dev' | 'serve'): string {
  const start = USAGE.indexOf(`outpost ${command} `);
  const next = USAGE.slice(start + 1).search(/\n\s*outpost /);
  return USAGE.slice(start, start + 1 + next);
}

describe('README and usage texts agree', function () {
  const readme = readmeFlags();

  it('finds the flags the README shows for both programs', function () {
    expect([...readme.outpost]).to.include.members(['--http-port', '--xmpp-server', '--public-hosts']);
    expect([...readme.agent]).to.include.members(['--server', '--jid', '--services']);
  });

  it('lists in `outpost --help` every flag the README shows for outpost', function () {
    expect([...readme.outpost].filter((flag) => !flagsIn(USAGE).includes(flag))).to.deep.equal([]);
  });

  it('lists in `outpost-agent --help` every flag the README shows for the agent', function () {
    expect([...readme.agent].filter((flag) => !flagsIn(AGENT_USAGE).includes(flag))).to.deep.equal([]);
  });

  for (const command of ['dev', 'serve'] as const) {
    it(`lists every setting of outpost ${command} in its usage, and the environment variables' naming`, function () {
      const missing = COMMAND_SETTINGS[command].map((s) => `--${s.flag}`).filter((flag) => !flagsIn(usageOf(command)).includes(flag));
      expect(missing).to.deep.equal([]);
      expect(USAGE.replace(/\s+/g, ' ')).to.include("environment variable: OUTPOST_ and the flag's name in capitals with underscores");
      for (const s of COMMAND_SETTINGS[command]) expect(s.env).to.equal(`OUTPOST_${s.flag.replace(/-/g, '_').toUpperCase()}`);
    });
  }

  it('lists every flag of outpost-agent in its usage, each with its environment variable', function () {
    const flags = Object.keys(OPTIONS).map((name) => `--${name}`);
    expect(flags.filter((flag) => !flagsIn(AGENT_USAGE).includes(flag))).to.deep.equal([]);
    const withoutVariable = Object.keys(OPTIONS)
      .filter((name) => !['help', 'print-systemd-unit'].includes(name))
      .filter((name) => !new RegExp(`--${name}\\s+OUTPOST_AGENT_${name.replace(/-/g, '_').toUpperCase()}\\b`).test(AGENT_USAGE));
    expect(withoutVariable).to.deep.equal([]);
  });
});
