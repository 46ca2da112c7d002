import { MAX_BODY_BYTES } from '../../protocol/index.js';

/**
 * Room an `execute` body keeps for everything but the inputs: the envelope, the job id, the
 * process id (≤ 200 characters) and the upload URL and token (≤ 2,000 and 200).
 */
const EXECUTE_ENVELOPE_BYTES = 4 * 1024;

/** The most bytes a job's inputs take as JSON, so that its `execute` fits one body (docs/protocol.md §2). */
export const MAX_EXECUTE_INPUT_BYTES = MAX_BODY_BYTES - EXECUTE_ENVELOPE_BYTES;

/** Why the inputs cannot travel in one `execute` message, or undefined when they can. */
export function inputsTooLarge(inputs: Record<string, unknown>): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(inputs));
  if (bytes <= MAX_EXECUTE_INPUT_BYTES) return undefined;
  return `inputs take ${bytes} bytes as JSON, over the limit of ${MAX_EXECUTE_INPUT_BYTES} bytes for one execution`;
}
