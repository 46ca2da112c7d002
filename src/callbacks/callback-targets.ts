import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a callback may not reach unless an operator allows them (docs/security.md, SSRF):
 * this machine, private networks, link-local (cloud metadata lives at 169.254.169.254), shared
 * and reserved ranges, multicast.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) FORBIDDEN.addSubnet(network, prefix, 'ipv6');

/** `--callback-allow`: host names, addresses or networks (CIDR) callbacks may reach although forbidden. */
export class CallbackAllowlist {
  readonly #hosts = new Set<string>();
  readonly #addresses = new BlockList();

  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0) this.#hosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.#addresses.addAddress(address!, family === 4 ? 'ipv4' : 'ipv6');
      else this.#addresses.addSubnet(address!, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Why a callback may not go to this resolved address of `host`, or undefined when it may. */
  refusal(host: string, address: string): string | undefined {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const checked = v4 ?? address;
    const checkedFamily: 'ipv4' | 'ipv6' = isIP(checked) === 4 ? 'ipv4' : 'ipv6';
    if (!FORBIDDEN.check(checked, checkedFamily)) return undefined;
    if (this.#hosts.has(host.toLowerCase()) || this.#addresses.check(checked, checkedFamily)) return undefined;
    return 'a loopback, private, link-local or reserved address; callbacks go there only when --callback-allow lists it';
  }
}

/** Why a callback URL may not be used, or undefined when it may: checked at execute time and again at each delivery. */
export async function callbackUrlRefusal(uri: string, allow: CallbackAllowlist): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol}`;
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true, verbatim: true }).then(
    (found) => found.map((a) => a.address),
    () => undefined,
  );
  if (!addresses || addresses.length === 0) return `names host '${host}', which cannot be resolved`;
  for (const address of addresses) {
    const refusal = allow.refusal(host, address);
    if (refusal) return `resolves to ${address}, ${refusal}`;
  }
  return undefined;
}
