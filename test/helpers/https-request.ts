import https from 'node:https';

/**
 * A request to an orchestrator's HTTPS, trusting its certificate as a CA (fetch takes no CA): a
 * GET, or with a body a POST that asks for an asynchronous job.
 */
export function httpsRequest(url: string, ca: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json', prefer: 'respond-async' }) };
    const outgoing = https.request(url, { method: body === undefined ? 'GET' : 'POST', headers, ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, text, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    outgoing.once('error', reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
