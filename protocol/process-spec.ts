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

/** The CRS a bounding box is in when it names none (OGC 18-062r2, `bbox.yaml`). */
export const DEFAULT_BBOX_CRS = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
/** Most values an array input takes (`maxOccurs`). */
export const MAX_OCCURS = 1000;

export const InputSpecSchema = Type.Object(
  {
    type: Type.Union([
      Type.Literal('string'),
      Type.Literal('number'),
      Type.Literal('integer'),
      Type.Literal('boolean'),
      Type.Literal('bbox'),
      Type.Literal('object'),
      Type.Literal('file'),
    ]),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    enum: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 1000 })),
    /** A scalar; an array of them for an array input; a bounding box or JSON object for those types. */
    default: Type.Optional(Type.Union([Scalar, Type.Array(Scalar, { maxItems: MAX_OCCURS }), Type.Object({})])),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    minLength: Type.Optional(Type.Integer({ minimum: 0 })),
    maxLength: Type.Optional(Type.Integer({ minimum: 0 })),
    pattern: Type.Optional(Type.String({ maxLength: 1000 })),
    required: Type.Optional(Type.Boolean()),
    /** Fewest and most values (OGC 18-062r2 §7.11.2, `minOccurs`/`maxOccurs`); `maxOccurs` > 1 makes an array input. */
    minOccurs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OCCURS })),
    maxOccurs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_OCCURS })),
    /** `bbox` inputs: the CRS URIs a box may be in, the first one the default (absent: any, default CRS84). */
    crs: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { minItems: 1, maxItems: 50 })),
    /**
     * A string value may start with '-': the agent passes it where no program reads it as an
     * option. Absent means such values are refused (docs/protocol.md, InputSpec).
     */
    allowDash: Type.Optional(Type.Boolean()),
    /** The media types a `file` input accepts; absent means any (docs/protocol.md, file inputs). */
    mediaTypes: Type.Optional(Type.Array(Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN }), { minItems: 1, maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type InputSpec = Static<typeof InputSpecSchema>;

/** Why a value that the program would read as an option is refused (see `allowDash`). */
export function optionLikeRefusal(input: string): string {
  return `input '${input}' must not start with '-' (the program would read it as an option)`;
}

/** `Image/TIFF; application=geotiff` → `image/tiff`: what two media types must share to match (RFC 6838 §4.2). */
export function mediaTypeEssence(mediaType: string): string {
  return mediaType.split(';', 1)[0]!.trim().toLowerCase();
}

/** Whether a file of `mediaType` fits the list a file input declares (any, when it declares none). */
export function acceptsMediaType(accepted: readonly string[] | undefined, mediaType: string): boolean {
  return accepted === undefined || accepted.some((item) => mediaTypeEssence(item) === mediaTypeEssence(mediaType));
}

/** An input without a default is required unless it says `required: false` (docs/architecture.md, Service files). */
export function isRequired(spec: InputSpec): boolean {
  return spec.required ?? spec.default === undefined;
}

/** An input that takes several values, given as a JSON array. */
export function isArrayInput(spec: Pick<InputSpec, 'maxOccurs'>): boolean {
  return (spec.maxOccurs ?? 1) > 1;
}

export const OutputTypeSchema = Type.Union([Type.Literal('string'), Type.Literal('json'), Type.Literal('file')]);
export type OutputType = Static<typeof OutputTypeSchema>;

const MediaType = Type.String({ maxLength: 200, pattern: MEDIA_TYPE_PATTERN });

/** An output as the orchestrator sees it; where the agent takes it from stays on the agent. */
export const OutputSpecSchema = Type.Object(
  {
    type: OutputTypeSchema,
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    /** The media type produced when the request names none; with `formats`, the first of them. */
    mediaType: Type.Optional(MediaType),
    /**
     * Media types a file output can be produced in; an execute request picks one with
     * `format.mediaType` (docs/protocol.md, OutputSpec).
     */
    formats: Type.Optional(Type.Array(MediaType, { minItems: 1, maxItems: 20, uniqueItems: true })),
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

/** Something people should know about a published file, e.g. a key it sets that Outpost ignores. */
export const FileNoteSchema = Type.Object(
  { file: Type.String({ maxLength: 255 }), note: Type.String({ maxLength: 2000 }) },
  { additionalProperties: false },
);
export type FileNote = Static<typeof FileNoteSchema>;
