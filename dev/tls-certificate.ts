import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Where `outpost dev` keeps the certificate it made, inside the data directory. */
export const devTlsDir = (dataDir: string) => path.join(dataDir, 'tls');

/**
 * A self-signed certificate and key in `<data-dir>/tls/`, made with the openssl CLI on the first
 * start and kept afterwards: agents pin its fingerprint, so a new one would lock them out
 * (docs/security.md, rotation). `names` (the XMPP domain first, then host names or addresses)
 * go into subjectAltName.
 */
export async function ensureDevCertificate(dataDir: string, names: string[]): Promise<TlsFiles> {
  const dir = devTlsDir(dataDir);
  const files = { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const altNames = [...new Set(names)].map((name) => (net.isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650'];
  args.push('-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${altNames}`, '-keyout', files.keyFile, '-out', files.certFile);
  try {
    await promisify(execFile)('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ENOENT' ? 'openssl is not installed (apt-get install -y openssl)' : (err as Error).message.trim();
    throw new Error(`could not make a TLS certificate in ${dir}: ${reason}`);
  }
  await chmod(files.keyFile, 0o600);
  return files;
}

/** The certificate's SHA-256 fingerprint as openssl prints it (`AB:CD:…`), the value agents pin. */
export function certificateFingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
