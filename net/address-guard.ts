import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses that a URL given by a client may not reach unless an operator allows them
 * (docs/security.md, SSRF): this machine, private networks, link-local (cloud metadata lives at
 * 169.254.169.254), shared and reserved ranges, multicast.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) FORBIDDEN.addSubnet(network, prefix, 'ipv6');

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/**
 * Host names, addresses or networks (CIDR) that may be reached although forbidden, as an
 * operator's flag lists them (`--callback-allow` on the orchestrator, `--fetch-allow` on an agent).
 */
export class AddressAllowlist {
  readonly #hosts = new Set<string>();
  readonly #addresses = new BlockList();

  /** `who` and `flag` word the refusal, e.g. `callbacks` and `--callback-allow`. */
  constructor(entries: readonly string[] = [], readonly who = 'callbacks', readonly flag = '--callback-allow') {
    for (const entry of entries) {
      const [address = '', prefix, ...rest] = entry.split('/');
      const family = isIP(address);
      // A typo must not widen the list: `10.0.0.0/` would be /0, every address, and a URL a host that never matches.
      const bits = prefix !== undefined && /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      const valid =
        rest.length === 0 &&
        (family === 0 ? prefix === undefined && HOST_NAME.test(entry) && !/^[\d.]+$/.test(entry) : prefix === undefined || bits <= (family === 4 ? 32 : 128));
      if (!valid) throw new Error(`${flag}: '${entry}' is not a host name, an address or a network such as 10.1.0.0/16`);
      if (family === 0) this.#hosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.#addresses.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      else this.#addresses.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Comma-separated entries, as the flags take them. */
  static parse(text: string | undefined, who?: string, flag?: string): AddressAllowlist {
    return new AddressAllowlist(text?.split(',').map((entry) => entry.trim()).filter(Boolean), who, flag);
  }

  /** Why this resolved address of `host` may not be reached, or undefined when it may. */
  refusal(host: string, address: string): string | undefined {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const checked = v4 ?? address;
    const checkedFamily: 'ipv4' | 'ipv6' = isIP(checked) === 4 ? 'ipv4' : 'ipv6';
    if (!FORBIDDEN.check(checked, checkedFamily)) return undefined;
    if (this.#hosts.has(host.toLowerCase()) || this.#addresses.check(checked, checkedFamily)) return undefined;
    return `a loopback, private, link-local or reserved address; ${this.who} go there only when ${this.flag} lists it`;
  }
}

/** Why a URL may not be used, or undefined when it may: checked before each request (and each redirect). */
export async function urlRefusal(uri: string, allow: AddressAllowlist): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol}`;
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await lookupAll(host, { all: true, verbatim: true }).then(
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

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A resolver for `http.request` that refuses forbidden addresses at connect time, so a name that
 * resolved to a public address when checked cannot be made to point inside afterwards (DNS
 * rebinding). Node skips the resolver for a literal address: check those with `urlRefusal`.
 */
export function guardedLookup(allow: AddressAllowlist): typeof lookup {
  const guarded = (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    lookup(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '');
      const refused = found.find((a) => allow.refusal(hostname, a.address) !== undefined);
      if (refused) {
        const reason = `host ${hostname} resolves to ${refused.address}, ${allow.refusal(hostname, refused.address)!}`;
        return callback(Object.assign(new Error(reason), { code: 'EREFUSED' }), '');
      }
      if (options.all) return callback(null, found);
      callback(null, found[0]!.address, found[0]!.family);
    });
  };
  return guarded as unknown as typeof lookup;
}
