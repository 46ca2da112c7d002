import http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A minimal keep-alive HTTP/1.1 client: node:http costs the load generator far less CPU per
 * request than fetch, and on a small machine the generator shares the cores with what it measures.
 */
export class HttpClient {
  readonly #agent: http.Agent;

  constructor(
    readonly baseUrl: string,
    connections: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const allHeaders: Record<string, string | number> = { accept: 'application/json', ...headers };
    if (payload !== undefined) {
      allHeaders['content-type'] = 'application/json';
      allHeaders['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const request = http.request(new URL(path, this.baseUrl), { method, agent: this.#agent, headers: allHeaders, timeout: this.timeoutMs }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The answer if its status is `expected`, else an error naming the status and the start of the body. */
export function expectStatus(answer: HttpAnswer, expected: number, what: string): HttpAnswer {
  if (answer.status !== expected) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  return answer;
}
