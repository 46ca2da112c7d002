import { OutpostError } from '../errors.js';
import { EXECUTE_REQUEST_WORDING, ajv, describeAjvError, type OutputSpec, type ProcessSpec } from '../../protocol/index.js';
import type { ExecutionOptions, OutputRequest, Subscriber } from '../store/job-record.js';
import { defaultMode, offeredMediaTypes } from './result-downloads.js';

/** OGC 18-062r2 `execute.yaml`; unknown members are refused so that a misspelt one cannot go unnoticed. */
export const EXECUTE_REQUEST_SCHEMA = {
  type: 'object',
  properties: {
    inputs: { type: 'object' },
    outputs: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          transmissionMode: { enum: ['value', 'reference'] },
          // OGC 18-062r2 `format.yaml`; only `mediaType` chooses anything here.
          format: {
            type: 'object',
            properties: { mediaType: { type: 'string', maxLength: 200 }, encoding: { type: 'string' }, schema: {} },
            additionalProperties: false,
          },
        },
        additionalProperties: false,
      },
    },
    response: { enum: ['document', 'raw'] },
    subscriber: {
      type: 'object',
      properties: {
        successUri: { type: 'string', format: 'uri' },
        inProgressUri: { type: 'string', format: 'uri' },
        failedUri: { type: 'string', format: 'uri' },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

interface ExecuteBody {
  inputs?: Record<string, unknown>;
  outputs?: Record<string, OutputRequest>;
  response?: 'document' | 'raw';
  subscriber?: Subscriber;
}

export interface ExecuteRequest {
  inputs: Record<string, unknown>;
  execution: ExecutionOptions;
}

const validate = ajv.compile<ExecuteBody>(EXECUTE_REQUEST_SCHEMA);

function badRequest(message: string): OutpostError {
  return new OutpostError('bad-request', 400, message);
}

/** OGC 18-062r2 §7.11.2: naming no outputs (or an empty set) asks for all of them. */
function requestedOutputs(body: ExecuteBody, spec: ProcessSpec): ExecutionOptions['outputs'] {
  const entries = Object.entries(body.outputs ?? {});
  if (entries.length === 0) return undefined;
  const known = Object.keys(spec.outputs);
  for (const [id] of entries) {
    if (!known.includes(id)) {
      throw badRequest(`'outputs' names '${id}', which process '${spec.id}' does not have; its outputs are: ${known.join(', ')}`);
    }
  }
  return Object.fromEntries(entries);
}

/** The same media type, parameters aside, case-insensitively (RFC 9110 §8.3.1). */
const essence = (mediaType: string) => mediaType.split(';', 1)[0]!.trim().toLowerCase();

/**
 * Checks each `format.mediaType` against what its output is produced as, and returns the choices
 * among several `formats`, which the agent is told (docs/protocol.md, execute).
 */
function chosenFormats(outputs: ExecutionOptions['outputs'], spec: ProcessSpec): Record<string, string> | undefined {
  const chosen: [string, string][] = [];
  for (const [id, request] of Object.entries(outputs ?? {})) {
    const mediaType = request.format?.mediaType;
    const output = spec.outputs[id] as OutputSpec;
    if (mediaType === undefined) continue;
    const offered = offeredMediaTypes(output);
    const match = offered.find((type) => essence(type) === essence(mediaType));
    if (match === undefined) {
      throw badRequest(`'outputs.${id}.format.mediaType' '${mediaType}' is not offered: output '${id}' is produced as ${offered.join(', ')}`);
    }
    if (output.formats) chosen.push([id, match]);
  }
  return chosen.length > 0 ? Object.fromEntries(chosen) : undefined;
}

/**
 * `raw` sends one output as the body, or only Link headers when every output is a reference
 * (OGC 18-062r2 /req/core/process-execute-sync-raw-value-one, -sync-raw-ref). Several outputs
 * sent by value would need multipart/related, which is not offered, so that is refused up front.
 * Without a `response`, raw (the standard's default) is used where it gives the value itself,
 * and the results document otherwise, so a plain request never answers with an empty body.
 */
function responseMode(body: ExecuteBody, spec: ProcessSpec, outputs: ExecutionOptions['outputs']): ExecutionOptions['response'] {
  const selected = Object.keys(outputs ?? spec.outputs);
  const byValue = selected.filter((id) => (outputs?.[id]?.transmissionMode ?? defaultMode(spec.outputs[id])) === 'value');
  if (body.response === 'raw' && selected.length > 1 && byValue.length > 0) {
    throw badRequest(
      `'response' 'raw' with several outputs (${selected.join(', ')}) would need multipart/related, which this server does not offer; ` +
        `select one output in 'outputs' or use 'response' 'document'`,
    );
  }
  if (body.response) return body.response;
  return selected.length === 1 && byValue.length === 1 ? 'raw' : 'document';
}

/**
 * Checks the shape of an execute request and settles its response options. The inputs
 * themselves are checked by the job service against the process's input schema, the subscriber's
 * URIs by `checkSubscriber`.
 */
export function parseExecuteRequest(body: unknown, spec: ProcessSpec): ExecuteRequest {
  if (!validate(body)) {
    throw badRequest(describeAjvError(validate.errors, EXECUTE_REQUEST_WORDING, { value: body }));
  }
  const outputs = requestedOutputs(body, spec);
  const execution: ExecutionOptions = { response: responseMode(body, spec, outputs) };
  if (outputs) execution.outputs = outputs;
  const formats = chosenFormats(outputs, spec);
  if (formats) execution.formats = formats;
  if (body.subscriber && Object.keys(body.subscriber).length > 0) execution.subscriber = body.subscriber;
  return { inputs: body.inputs ?? {}, execution };
}
