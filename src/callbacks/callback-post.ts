import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { CallbackAllowlist } from './callback-targets.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A resolver that refuses forbidden addresses at connect time, so a name that resolved to a public
 * address when checked cannot be made to point inside afterwards (DNS rebinding).
 */
function guardedLookup(allow: CallbackAllowlist) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    lookup(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '');
      const refused = found.find((a) => allow.refusal(hostname, a.address) !== undefined);
      if (refused) {
        const reason = `callback host ${hostname} resolves to ${refused.address}, ${allow.refusal(hostname, refused.address)!}`;
        return callback(Object.assign(new Error(reason), { code: 'EREFUSED' }), '');
      }
      if (options.all) return callback(null, found);
      callback(null, found[0]!.address, found[0]!.family);
    });
  };
}

/**
 * POSTs a JSON body and resolves with the status code. Redirects are not followed: a callback is
 * made to the URI the client gave, nowhere else.
 */
export function postJson(uri: string, body: string, allow: CallbackAllowlist, timeoutMs: number): Promise<number> {
  const url = new URL(uri);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Outpost callbacks' },
        timeout: timeoutMs,
        lookup: guardedLookup(allow) as unknown as typeof lookup,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
