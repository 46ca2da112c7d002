import { runDev } from '../dev/dev-mode.js';
import { tokenCommand } from '../src/auth/token-command.js';
import { ConfigError, loadDevConfig, loadServeConfig } from '../src/config.js';
import { startOrchestrator } from '../src/main.js';
import { agentCommand } from './agent-command.js';
import { backupCommand } from './backup-command.js';
import { createLogger } from './logger.js';

export const USAGE = `usage: outpost dev [--host H] [--http-port P] [--data-dir D] [--services DIR] [--slots N] [--public-url URL] [--max-upload-bytes N]
                   [--keep-jobs SECONDS] [--log-level L] [--agent-grace SECONDS] [--ping-interval SECONDS] [--job-deadline SECONDS]
                   [--anonymous-read true|false]
                   [--anonymous-execute true|false] [--max-running N] [--max-waiting N] [--metrics-open true|false]
                   [--public-hosts HOST[:PORT],...] [--callback-allow HOST|ADDRESS|NETWORK,...]
                   [--tls-cert FILE --tls-key FILE] [--https true|false] [--fetch-allow HOST|ADDRESS|NETWORK,...]
       outpost serve --xmpp-server xmpp://HOST:PORT --component-jid orchestrator.DOMAIN --component-secret S [--host H] [--http-port P] [--data-dir D]
                     [--public-url URL] [--max-upload-bytes N] [--keep-jobs SECONDS] [--log-level L] [--agent-grace SECONDS] [--ping-interval SECONDS]
                     [--job-deadline SECONDS] [--anonymous-read true|false] [--anonymous-execute true|false]
                     [--max-running N] [--max-waiting N] [--metrics-open true|false] [--public-hosts HOST[:PORT],...]
                     [--callback-allow HOST|ADDRESS|NETWORK,...]
                     [--agent-allowlist JID,…] [--agent-domains DOMAIN,…] [--tls-cert FILE --tls-key FILE]
                     [--database postgres://USER@HOST/DB [--lease-retry SECONDS] [--link-grace SECONDS]] [--files-dir D]
       outpost agent add NAME[@DOMAIN] [--pool P] [--host H] [--public-url URL] [--data-dir D] [--database URL]
       outpost agent add PREFIX[@DOMAIN] --count N [--pool P] [--credentials DIR] [--host H] [--public-url URL] [--data-dir D] [--database URL]
       outpost agent add --from FILE [--pool P] [--credentials DIR] [--host H] [--public-url URL] [--data-dir D] [--database URL]
       outpost agent remove NAME[@DOMAIN] [--data-dir D] [--database URL]
       outpost agent list [--data-dir D] [--database URL]
       outpost token create --user NAME [--admin] [--label L] [--data-dir D | --database URL]
       outpost backup FILE [--force] [--data-dir D] [--database URL]
       outpost --help
Every flag of dev and serve can also be set by an environment variable: OUTPOST_ and the flag's
name in capitals with underscores, e.g. OUTPOST_HTTP_PORT for --http-port.`;

/** `outpost` command line. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    if (command === undefined) process.exit(2);
    return;
  }
  try {
    switch (command) {
      case 'dev': {
        const config = loadDevConfig(rest, process.env);
        return await runDev(config, createLogger(config.logLevel));
      }
      case 'serve': {
        const config = loadServeConfig(rest, process.env);
        const orchestrator = await startOrchestrator(config, createLogger(config.logLevel));
        process.stdout.write(`Outpost orchestrator listening on ${orchestrator.url}\n`);
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void orchestrator.stop().then(() => process.exit(0)));
        return;
      }
      case 'agent':
        return await agentCommand(rest);
      case 'backup':
        return await backupCommand(rest, process.env);
      case 'token':
        if (rest[0] === 'create') return await tokenCommand(rest.slice(1), process.env);
        throw new ConfigError('usage: outpost token create --user NAME [--admin] [--label L] [--data-dir D | --database URL]');
      default:
        throw new ConfigError(command ? `unknown command '${command}'` : 'a command is required');
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // One line that says what is wrong; the whole usage would bury it (it is at hand with --help).
    process.stderr.write(`outpost: ${err.message}\nRun 'outpost --help' for every command and flag.\n`);
    process.exit(2);
  }
}
