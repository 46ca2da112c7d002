/** The work directory under systemd: its StateDirectory, created for the service's user. */
export const SYSTEMD_WORK_DIR = '/var/lib/outpost-agent';
/** Where the unit reads OUTPOST_AGENT_PASSWORD from, so that the password is never in the unit. */
export const SYSTEMD_ENVIRONMENT_FILE = '/etc/outpost-agent/agent.env';

export interface UnitSettings {
  /** The program and its arguments before the flags: node and the agent's script, as absolute paths. */
  command: string[];
  /** Flags and their values, in order, e.g. ['--server', 'xmpp://…']. */
  flags: string[];
  workDir: string;
  /** How long the agent lets runs finish when stopped (`--stop-grace`). */
  stopGraceSeconds: number;
}

/** Room systemd leaves after the agent's own grace, for the kills and the last results to go out. */
const STOP_MARGIN_SECONDS = 15;

/** One word of ExecStart= (systemd.service(5), Command lines; systemd.unit(5), Specifiers). */
function execWord(word: string): string {
  const literal = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(literal) ? `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : literal;
}

/**
 * The systemd unit that runs one agent (packaging/outpost-agent.service is this text for an
 * example agent). A configuration error exits 78 (EX_CONFIG) and is not restarted; anything else
 * is. The first SIGTERM goes to the agent alone, which lets runs finish (docs/decisions.md, Fabric).
 */
export function systemdUnit({ command, flags, workDir, stopGraceSeconds }: UnitSettings): string {
  const outsideState = workDir !== SYSTEMD_WORK_DIR;
  return `# Outpost agent. Install: useradd --system --no-create-home outpost-agent; put
# OUTPOST_AGENT_PASSWORD=… into ${SYSTEMD_ENVIRONMENT_FILE} (mode 0600, owned by root);
# copy this file to /etc/systemd/system/outpost-agent.service; systemctl enable --now outpost-agent.
# Printed by outpost-agent --print-systemd-unit with the flags to run.

[Unit]
Description=Outpost agent: offers this machine's programs to an Outpost orchestrator
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=outpost-agent
Group=outpost-agent
EnvironmentFile=${SYSTEMD_ENVIRONMENT_FILE}
ExecStart=${[...command, ...flags].map(execWord).join(' ')}
StateDirectory=outpost-agent
StateDirectoryMode=0700
${outsideState ? `ReadWritePaths=${execWord(workDir)}\n` : ''}Restart=on-failure
RestartSec=5
RestartPreventExitStatus=78
# The agent drains on SIGTERM and waits up to ${stopGraceSeconds} s for its runs; the rest are killed after that.
KillMode=mixed
TimeoutStopSec=${stopGraceSeconds + STOP_MARGIN_SECONDS}
UMask=0077
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=full
ProtectHome=read-only
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectControlGroups=true
RestrictSUIDSGID=true
RestrictRealtime=true
LockPersonality=true

[Install]
WantedBy=multi-user.target
`;
}
