import { printable } from '../protocol/index.js';

/** OGC API – Processes exception types (OGC 18-062r2, §7.12 and Annex B). */
const OGC = 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0';

export const ERROR_TYPES = {
  'no-such-process': `${OGC}/no-such-process`,
  'no-such-job': `${OGC}/no-such-job`,
  'result-not-ready': `${OGC}/result-not-ready`,
  'invalid-parameter': `${OGC}/invalid-parameter`,
  'invalid-input': `${OGC}/invalid-input`,
  'bad-request': 'urn:outpost:error:bad-request',
  'payload-too-large': 'urn:outpost:error:payload-too-large',
  'unsupported-media-type': 'urn:outpost:error:unsupported-media-type',
  'not-acceptable': 'urn:outpost:error:not-acceptable',
  'job-failed': 'urn:outpost:error:job-failed',
  'job-dismissed': 'urn:outpost:error:job-dismissed',
  'job-finished': 'urn:outpost:error:job-finished',
  conflict: 'urn:outpost:error:conflict',
  unauthorized: 'urn:outpost:error:unauthorized',
  forbidden: 'urn:outpost:error:forbidden',
  'too-many-requests': 'urn:outpost:error:too-many-requests',
  unavailable: 'urn:outpost:error:unavailable',
  'not-found': 'urn:outpost:error:not-found',
  internal: 'urn:outpost:error:internal',
} as const;

export type ErrorCode = keyof typeof ERROR_TYPES;

/**
 * An error meant for a client: a code, an HTTP status and a message that is safe to show.
 * Anything else thrown is reported as `internal` without its message (Koa's `expose` rule).
 */
export class OutpostError extends Error {
  readonly expose = true;
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    // The detail often quotes what the client sent; it stays one line in the body and the logs.
    super(printable(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutpostError';
    this.headers = options?.headers ?? {};
  }
  readonly headers: Record<string, string>;

  get type(): string {
    return ERROR_TYPES[this.code];
  }
}
