import { existsSync } from 'node:fs';

/** The private Prosody's files inside its folder. */
export const CONFIG_FILE = 'prosody.cfg.lua';
/** Its admin socket (mod_admin_socket), named in prosody/prosody.cfg.lua.template. */
export const ADMIN_SOCKET = 'admin.sock';

const PROSODY_BINARIES = ['/usr/bin/prosody', '/usr/local/bin/prosody'];

export function findProsody(): string {
  const found = PROSODY_BINARIES.find((file) => existsSync(file));
  if (!found) throw new Error('Prosody is not installed: install it with `apt-get install -y prosody` (Debian, Ubuntu)');
  return found;
}
