import net from 'node:net';
import tls from 'node:tls';

/**
 * How an agent knows it talks to its own server, on the XMPP link and for uploads alike
 * (docs/security.md, the network): a pinned certificate, else a CA, else the system's CAs.
 */
export interface ServerTrust {
  /** SHA-256 fingerprints of the certificates accepted, 64 upper-case hex digits each; any one will do (rotation). */
  fingerprints?: string[];
  /** PEM text of the CAs trusted instead of the system's. */
  ca?: string;
  /** Allows plain text to a host that is not loopback: no STARTTLS, `http://` uploads. */
  insecure?: boolean;
}

/** The server is not the one the agent trusts, or would be reached in plain text: retrying cannot help. */
export class ServerTrustError extends Error {}

/** Node's codes for a certificate that does not verify against the CAs or the name. */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;

/** `a1b2…` or `A1:B2:…`, comma-separated: the fingerprints of `--server-fingerprint`. */
export function parseFingerprints(text: string): string[] {
  return text.split(',').map((item) => {
    const hex = item.trim().replace(/:/g, '').toUpperCase();
    if (!/^[0-9A-F]{64}$/.test(hex)) throw new Error(`--server-fingerprint must be the certificate's SHA-256 in hex (64 digits, colons allowed), comma-separated; got '${item.trim()}'`);
    return hex;
  });
}

/** `AB:CD:…`, as openssl and Node print a fingerprint. */
export const colonHex = (hex: string) => hex.match(/../g)!.join(':');

/** All of 127.0.0.0/8, ::1 and `localhost`: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (net.isIPv4(bare) && bare.startsWith('127.'));
}

/** Refuses plain text to `host` unless it is loopback or the agent was told `--insecure`. */
export function checkPlainText(host: string, what: string, trust: ServerTrust): void {
  if (trust.insecure || isLoopbackHost(host)) return;
  throw new ServerTrustError(`${what} ${host} would travel in plain text; give the server TLS, or start the agent with --insecure to allow it`);
}

/**
 * A TLS connection (over `options.socket` for STARTTLS) that resolves once the server is
 * verified, before a byte of ours is sent. A pin replaces the CA check, so that a self-signed
 * certificate can be trusted by its fingerprint alone.
 */
export function connectVerified(options: tls.ConnectionOptions, trust: ServerTrust): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...options, ...(trust.ca === undefined ? {} : { ca: trust.ca }), rejectUnauthorized: trust.fingerprints === undefined });
    const onError = (err: Error & { code?: string }) => {
      const untrusted = UNTRUSTED_CERTIFICATE.test(err.code ?? '');
      reject(untrusted ? new ServerTrustError(`the server's certificate is not trusted (${err.message}); pin it with --server-fingerprint or name its CA with --ca-file`) : err);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      const actual = socket.getPeerCertificate().fingerprint256?.replace(/:/g, '') ?? '';
      if (trust.fingerprints && !trust.fingerprints.includes(actual)) {
        socket.destroy();
        reject(new ServerTrustError(`the server's certificate has fingerprint ${colonHex(actual)}, not the pinned ${trust.fingerprints.map(colonHex).join(' or ')}`));
        return;
      }
      resolve(socket);
    });
  });
}
