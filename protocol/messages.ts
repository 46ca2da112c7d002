import { Type, type Static, type TObject } from '@sinclair/typebox';
import { FileNoteSchema, InvalidFileSchema, MEDIA_TYPE_PATTERN, NamedRecord, ProcessSpecSchema } from './process-spec.js';

const JobId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Seq = Type.Integer({ minimum: 1 });
const Text = (maxLength: number) => Type.String({ maxLength });

/** Every body names the protocol version and a string `type`; the rest depends on the type. */
function message<T extends string, P extends Record<string, any>>(type: T, props: P) {
  return Type.Object({ v: Type.Literal(1), type: Type.Literal(type), ...props }, { additionalProperties: false });
}

// agent → orchestrator

export const CatalogMessage = message('catalog', {
  hash: Type.String({ minLength: 1, maxLength: 128 }),
  /** A large catalog is sent in parts that share one hash; `part` counts from 1. */
  part: Type.Integer({ minimum: 1 }),
  parts: Type.Integer({ minimum: 1, maximum: 1000 }),
  processes: Type.Array(ProcessSpecSchema),
  invalid: Type.Array(InvalidFileSchema),
  /** Added later than the rest, so optional: older agents send none. */
  notes: Type.Optional(Type.Array(FileNoteSchema, { maxItems: 1000 })),
});
export const AcceptedMessage = message('accepted', { job: JobId, seq: Seq });
export const RejectedMessage = message('rejected', {
  job: JobId,
  reason: Type.Union([Type.Literal('busy'), Type.Literal('unknown-process'), Type.Literal('invalid-inputs'), Type.Literal('draining')]),
  message: Text(2000),
});
export const ProgressMessage = message('progress', {
  job: JobId,
  seq: Seq,
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  message: Type.Optional(Text(1000)),
});
/** A file name offered for download: one path segment, no control characters. */
export const FILENAME_PATTERN = '^[^\\x00-\\x1f\\x7f/\\\\]{1,255}$';

export const OutputValueSchema = Type.Union([
  Type.Object({ value: Type.Unknown() }, { additionalProperties: false }),
  Type.Object(
    {
      href: Text(2000),
      mediaType: Type.Optional(Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN })),
      size: Type.Optional(Type.Integer({ minimum: 0 })),
      sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
      /** The name the program gave the file (a directory's name + `.zip`), offered to whoever downloads it. */
      filename: Type.Optional(Type.String({ pattern: FILENAME_PATTERN })),
    },
    { additionalProperties: false },
  ),
]);
export type OutputValue = Static<typeof OutputValueSchema>;
export const CompletedMessage = message('completed', {
  job: JobId,
  seq: Seq,
  outputs: NamedRecord(OutputValueSchema),
});
export const FailureCodeSchema = Type.Union([
  Type.Literal('exit'),
  Type.Literal('signal'),
  Type.Literal('timeout'),
  Type.Literal('spawn'),
  Type.Literal('output'),
  Type.Literal('input'),
  Type.Literal('invalid-inputs'),
  Type.Literal('aborted'),
  Type.Literal('internal'),
]);
export type FailureCode = Static<typeof FailureCodeSchema>;
export const FailedMessage = message('failed', {
  job: JobId,
  seq: Seq,
  code: FailureCodeSchema,
  message: Text(2000),
  exitCode: Type.Optional(Type.Integer()),
  signal: Type.Optional(Text(20)),
  stderr: Type.Optional(Text(8192)),
});
export const KilledMessage = message('killed', { job: JobId, seq: Seq, signal: Type.Optional(Text(20)) });
export const JobsMessage = message('jobs', {
  jobs: Type.Array(
    // 0: the job has sent nothing yet (it waits for a slot, or its run is within its quiet start).
    Type.Object({ job: JobId, process: Text(200), seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    { maxItems: 10000 },
  ),
});

// orchestrator → agent

export const ExecuteMessage = message('execute', {
  job: JobId,
  process: Text(200),
  inputs: NamedRecord(Type.Unknown()),
  /** Absolute time (ISO 8601) after which the run is killed and fails with `timeout`. */
  deadline: Type.Optional(Type.String({ format: 'date-time' })),
  /** Where file outputs are uploaded over HTTP, with a bearer token valid for this job only. */
  upload: Type.Optional(Type.Object({ url: Text(2000), token: Text(200) }, { additionalProperties: false })),
  /** Output name → the media type the client chose among that output's `formats`; sent only when one was chosen. */
  formats: Type.Optional(NamedRecord(Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN }))),
});
/**
 * A file input as the agent fetches it (docs/protocol.md, file inputs): with `token`, from the
 * orchestrator, which stored what the client sent inline; without, from the client's own URL.
 */
export const FileInputSchema = Type.Object(
  {
    href: Text(2000),
    mediaType: Type.Optional(Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN })),
    token: Type.Optional(Text(200)),
  },
  { additionalProperties: false },
);
export type FileInput = Static<typeof FileInputSchema>;
export const KillMessage = message('kill', { job: JobId });
export const AckMessage = message('ack', { job: JobId, seq: Seq });
/** The most acknowledgements one `acks` message carries: at most about 25 KB, with the longest job ids. */
export const MAX_ACKS_PER_MESSAGE = 256;
/** Several `ack`s in one body, for an agent that announced the `acks` feature (docs/protocol.md §4.2.4). */
export const AcksMessage = message('acks', {
  acks: Type.Array(Type.Object({ job: JobId, seq: Seq }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_ACKS_PER_MESSAGE }),
});
export const CatalogRequestMessage = message('catalog-request', {});

// both ways

export const ErrorMessage = message('error', {
  /** The job the error is about, when there is one (e.g. a `kill` for a job the agent does not run). */
  job: Type.Optional(JobId),
  code: Type.Union([Type.Literal('invalid-message'), Type.Literal('unknown-job'), Type.Literal('not-allowed')]),
  message: Text(2000),
});

export const agentMessageSchemas = [
  CatalogMessage,
  AcceptedMessage,
  RejectedMessage,
  ProgressMessage,
  CompletedMessage,
  FailedMessage,
  KilledMessage,
  JobsMessage,
  ErrorMessage,
] as const;

export const orchestratorMessageSchemas = [
  ExecuteMessage,
  KillMessage,
  AckMessage,
  AcksMessage,
  CatalogRequestMessage,
  ErrorMessage,
] as const;

type MessageOf<S extends readonly TObject[]> = Static<S[number]>;
/** What an agent sends to the orchestrator. */
export type AgentMessage = MessageOf<typeof agentMessageSchemas>;
/** What the orchestrator sends to an agent. */
export type OrchestratorMessage = MessageOf<typeof orchestratorMessageSchemas>;
export type Message<M extends { type: string }, T extends M['type']> = Extract<M, { type: T }>;

/** The events that end a job's run; kept by the agent until acknowledged. */
export type TerminalEvent = Message<AgentMessage, 'completed' | 'failed' | 'killed'>;
