import http from 'node:http';
import https from 'node:https';
import { guardedLookup, type AddressAllowlist } from '../../net/address-guard.js';

/**
 * POSTs a JSON body and resolves with the status code. Redirects are not followed: a callback is
 * made to the URI the client gave, nowhere else.
 */
export function postJson(uri: string, body: string, allow: AddressAllowlist, timeoutMs: number): Promise<number> {
  const url = new URL(uri);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Outpost callbacks' },
        timeout: timeoutMs,
        lookup: guardedLookup(allow),
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
