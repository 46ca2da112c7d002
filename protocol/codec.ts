import type { ValidateFunction } from 'ajv';
import type { TObject } from '@sinclair/typebox';
import { MAX_BODY_BYTES } from './constants.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import {
  agentMessageSchemas,
  orchestratorMessageSchemas,
  type AgentMessage,
  type OrchestratorMessage,
} from './messages.js';
import { PROTOCOL_WORDING, ajv, describeAjvError, printable } from './validation.js';

export type Decoded<M> = { ok: true; message: M } | { ok: false; error: string };

function compileAll(schemas: readonly TObject[]): Map<string, ValidateFunction> {
  const byType = new Map<string, ValidateFunction>();
  for (const schema of schemas) {
    const typeSchema = schema.properties['type'] as unknown as { const: string };
    byType.set(typeSchema.const, ajv.compile(schema));
  }
  return byType;
}

/**
 * A decoder whose schemas are compiled on first use: each program decodes one direction only, and
 * compiled validators are a good part of an agent's memory.
 */
function decoder<M>(schemas: readonly TObject[]) {
  let compiled: Map<string, ValidateFunction> | undefined;
  return (body: string): Decoded<M> => {
    const byType = (compiled ??= compileAll(schemas));
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) return { ok: false, error: `body exceeds ${MAX_BODY_BYTES} bytes` };
    if (nestsDeeperThan(body)) return { ok: false, error: `body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels` };
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      return { ok: false, error: `body is not JSON: ${printable((err as Error).message)}` };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, error: 'body must be a JSON object' };
    }
    const { type, v } = value as { type?: unknown; v?: unknown };
    if (typeof type !== 'string') return { ok: false, error: "body has no string 'type'" };
    if (v !== 1) return { ok: false, error: `unsupported protocol version ${JSON.stringify(v)} (expected 1)` };
    const validate = byType.get(type);
    if (!validate) return { ok: false, error: `unknown message type '${printable(type)}'` };
    if (!validate(value)) return { ok: false, error: `${type}: ${describeAjvError(validate.errors, PROTOCOL_WORDING)}` };
    return { ok: true, message: value as M };
  };
}

/** Parses and validates a body received by the orchestrator. */
export const decodeAgentMessage = decoder<AgentMessage>(agentMessageSchemas);
/** Parses and validates a body received by an agent. */
export const decodeOrchestratorMessage = decoder<OrchestratorMessage>(orchestratorMessageSchemas);

/** A message that cannot be sent as it is: sending it again would fail the same way. */
export class UnsendableMessageError extends RangeError {}

/** Serialises a message; refuses one that would break the body size limit. */
export function encodeMessage(message: AgentMessage | OrchestratorMessage): string {
  const body = JSON.stringify(message);
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_BODY_BYTES) {
    throw new UnsendableMessageError(`the ${message.type} message would be ${bytes} bytes, over the limit of ${MAX_BODY_BYTES} bytes`);
  }
  return body;
}
