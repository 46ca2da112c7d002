import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Names of processes, inputs and outputs: safe in URLs, file names and argument keys. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]{1,100}$';
/** A media type with optional parameters; nothing that could break a header (quotes only around values, no CR/LF). */
export const MEDIA_TYPE_PATTERN = '^[\\w.+-]+/[\\w.+-]+(\\s*;\\s*[\\w.+-]+=(?:[\\w.+-]+|"[^"\\\\\\r\\n]*"))*$';
export const PROCESS_ID_PATTERN = '^(?:[A-Za-z0-9_.-]+:)?[A-Za-z0-9_.-]+$';

/**
 * An object keyed by names. TypeBox leaves keys outside the pattern unchecked unless told, and
 * unchecked keys would carry unchecked values, so they are refused.
 */
export function NamedRecord<V extends TSchema>(value: V) {
  return Type.Record(Type.String({ pattern: NAME_PATTERN }), value, { additionalProperties: false });
}

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const InputSpecSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('string'), Type.Literal('number'), Type.Literal('integer'), Type.Literal('boolean')]),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    enum: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 1000 })),
    default: Type.Optional(Scalar),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    minLength: Type.Optional(Type.Integer({ minimum: 0 })),
    maxLength: Type.Optional(Type.Integer({ minimum: 0 })),
    pattern: Type.Optional(Type.String({ maxLength: 1000 })),
    required: Type.Optional(Type.Boolean()),
    /**
     * A string value may start with '-': the agent passes it where no program reads it as an
     * option. Absent means such values are refused (docs/protocol.md, InputSpec).
     */
    allowDash: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type InputSpec = Static<typeof InputSpecSchema>;

/** Why a value that the program would read as an option is refused (see `allowDash`). */
export function optionLikeRefusal(input: string): string {
  return `input '${input}' must not start with '-' (the program would read it as an option)`;
}

/** An input without a default is required unless it says `required: false` (docs/architecture.md, Service files). */
export function isRequired(spec: InputSpec): boolean {
  return spec.required ?? spec.default === undefined;
}

export const OutputTypeSchema = Type.Union([Type.Literal('string'), Type.Literal('json'), Type.Literal('file')]);
export type OutputType = Static<typeof OutputTypeSchema>;

/** An output as the orchestrator sees it; where the agent takes it from stays on the agent. */
export const OutputSpecSchema = Type.Object(
  {
    type: OutputTypeSchema,
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    mediaType: Type.Optional(Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN })),
  },
  { additionalProperties: false },
);
export type OutputSpec = Static<typeof OutputSpecSchema>;

/** Ten years: a keep time beyond it is a typo, not a policy. */
export const MAX_KEEP_JOBS_SECONDS = 10 * 366 * 24 * 3600;

/** One published process, as an agent announces it in its catalog. */
export const ProcessSpecSchema = Type.Object(
  {
    id: Type.String({ pattern: PROCESS_ID_PATTERN, maxLength: 200 }),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    keywords: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 }),
    version: Type.String({ maxLength: 50 }),
    inputs: NamedRecord(InputSpecSchema),
    outputs: NamedRecord(OutputSpecSchema),
    maxParallel: Type.Integer({ minimum: 1 }),
    file: Type.String({ maxLength: 255 }),
    /** Seconds the orchestrator keeps this process's finished jobs, instead of its own `--keep-jobs` (docs/protocol.md, ProcessSpec). */
    keepJobs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEEP_JOBS_SECONDS })),
  },
  { additionalProperties: false },
);
export type ProcessSpec = Static<typeof ProcessSpecSchema>;

/** A properties file the agent could not publish, and why. */
export const InvalidFileSchema = Type.Object(
  { file: Type.String({ maxLength: 255 }), reason: Type.String({ maxLength: 2000 }) },
  { additionalProperties: false },
);
export type InvalidFile = Static<typeof InvalidFileSchema>;
