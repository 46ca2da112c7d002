import { JOB_STATUSES } from '../store/job-record.js';
import { routeClass, type RouteClass } from './auth.js';
import { EXECUTE_REQUEST_SCHEMA } from './execute-request.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './paging.js';
import { JOB_CONTROL_OPTIONS, OUTPUT_TRANSMISSION } from './process-description.js';

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });
export const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
export const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
export const jsonContent = (schema: unknown) => ({ content: { 'application/json': { schema } } });
export const ok = (description: string, schemaName: string) => ({ description, ...jsonContent(ref(schemaName)) });
/** An OGC resource, also served as a page (OGC 18-062r2 html conformance class). */
export const okOrPage = (description: string, schemaName: string) => {
  const json = ok(description, schemaName);
  return { ...json, content: { ...json.content, 'text/html': { schema: { type: 'string' } } } };
};

const string = { type: 'string' };
const arrayOf = (items: Schema) => ({ type: 'array', items });
const links = arrayOf(ref('link'));

/** Schemas after OGC 18-062r2 Annex B (`openapi/schemas/*.yaml`), narrowed to what this server sends. */
const schemas: Record<string, Schema> = {
  link: {
    type: 'object',
    required: ['href'],
    properties: { href: string, rel: string, type: string, hreflang: string, title: string, length: { type: 'integer', minimum: 0 } },
  },
  qualifiedValue: {
    type: 'object',
    required: ['value'],
    properties: { value: string, mediaType: string, encoding: { type: 'string', enum: ['base64'] } },
  },
  landingPage: { type: 'object', required: ['links'], properties: { title: string, description: string, links } },
  confClasses: { type: 'object', required: ['conformsTo'], properties: { conformsTo: arrayOf(string) } },
  exception: {
    type: 'object',
    required: ['type'],
    properties: { type: string, title: string, status: { type: 'integer' }, detail: string, instance: string },
    additionalProperties: true,
  },
  processSummary: {
    type: 'object',
    required: ['id', 'version'],
    properties: {
      id: string,
      title: string,
      description: string,
      keywords: arrayOf(string),
      version: string,
      jobControlOptions: arrayOf({ type: 'string', enum: JOB_CONTROL_OPTIONS }),
      outputTransmission: arrayOf({ type: 'string', enum: OUTPUT_TRANSMISSION }),
      links,
    },
  },
  processList: {
    type: 'object',
    required: ['processes', 'links'],
    properties: { processes: arrayOf(ref('processSummary')), links },
  },
  inputDescription: {
    type: 'object',
    required: ['schema'],
    properties: {
      title: string,
      description: string,
      schema: { type: 'object' },
      minOccurs: { type: 'integer', minimum: 0 },
      maxOccurs: { type: 'integer', minimum: 1 },
    },
  },
  outputDescription: {
    type: 'object',
    required: ['schema'],
    properties: { title: string, description: string, schema: { type: 'object' } },
  },
  process: {
    allOf: [
      ref('processSummary'),
      {
        type: 'object',
        required: ['inputs', 'outputs'],
        properties: {
          inputs: { type: 'object', additionalProperties: ref('inputDescription') },
          outputs: { type: 'object', additionalProperties: ref('outputDescription') },
        },
      },
    ],
  },
  execute: EXECUTE_REQUEST_SCHEMA,
  results: {
    type: 'object',
    description: 'Output id → the value, or a link (`href`, `type`) for an output sent by reference.',
    additionalProperties: {},
  },
  statusInfo: {
    type: 'object',
    required: ['jobID', 'type', 'status', 'links'],
    properties: {
      jobID: string,
      processID: string,
      type: { type: 'string', enum: ['process'] },
      status: { type: 'string', enum: JOB_STATUSES },
      message: string,
      created: { type: 'string', format: 'date-time' },
      started: { type: 'string', format: 'date-time' },
      finished: { type: 'string', format: 'date-time' },
      updated: { type: 'string', format: 'date-time' },
      progress: { type: 'integer', minimum: 0, maximum: 100 },
      links,
    },
  },
  jobList: { type: 'object', required: ['jobs', 'links'], properties: { jobs: arrayOf(ref('statusInfo')), links } },
  probe: { type: 'object', required: ['status'], properties: { status: string } },
};

const query = (name: string, description: string, schema: Schema, extra: Schema = {}) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
  ...extra,
});
const exploded = { style: 'form', explode: true };

const parameters: Record<string, Schema> = {
  processId: { name: 'processId', in: 'path', required: true, description: 'id of a process', schema: string },
  jobId: { name: 'jobId', in: 'path', required: true, description: 'id of a job', schema: string },
  outputId: { name: 'outputId', in: 'path', required: true, description: 'id of an output of the job’s process', schema: string },
  inputId: { name: 'inputId', in: 'path', required: true, description: 'id of a file input of the job’s process, sent inline', schema: string },
  f: query(
    'f',
    'response format; without it, HTML is sent to clients that prefer `text/html` to JSON (browsers), JSON to all others',
    { type: 'string', enum: ['json', 'html'] },
  ),
  limit: query('limit', 'most items in the response', { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
  offset: query('offset', 'items to skip; follow the `next` link rather than computing it', { type: 'integer', minimum: 0, default: 0 }),
  processID: query('processID', 'only jobs of these processes (repeatable or comma-separated)', arrayOf(string), exploded),
  status: query('status', 'only jobs in these states (repeatable or comma-separated)', arrayOf({ type: 'string', enum: JOB_STATUSES }), exploded),
  type: query('type', 'only jobs of these types', arrayOf({ type: 'string', enum: ['process'] }), exploded),
  datetime: query('datetime', "creation time: an RFC 3339 instant or an interval 'start/end', '..' for an open end", string),
  minDuration: query('minDuration', 'only jobs that ran at least this many seconds', { type: 'integer', minimum: 0 }),
  maxDuration: query('maxDuration', 'only jobs that ran at most this many seconds', { type: 'integer', minimum: 0 }),
  prefer: {
    name: 'Prefer',
    in: 'header',
    required: false,
    description: '`respond-async` runs the job in the background (201 with its status); otherwise the response waits for the results',
    schema: string,
  },
};

/** Response headers by their HTTP names; `headers` of a response names them the same way. */
export const headerRefs = (...names: string[]) => Object.fromEntries(names.map((name) => [name, header(name)]));

/** The filters of the job list, shared by `/jobs` and `/admin/jobs`. */
export const JOB_LIST_PARAMS = ['processID', 'status', 'type', 'datetime', 'minDuration', 'maxDuration', 'limit', 'offset'].map(param);

const headers: Record<string, Schema> = {
  Location: { description: 'URL of the created resource', schema: string },
  'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': { description: 'the bearer realm, with `error="invalid_token"` for a token that was refused', schema: string },
};

const problem = (description: string, ...headerNames: string[]) => ({
  description,
  ...(headerNames.length > 0 && { headers: headerRefs(...headerNames) }),
  ...jsonContent(ref('exception')),
});

const responses: Record<string, Schema> = {
  BadRequest: problem('invalid parameter or request body'),
  Unauthorized: problem('a token is needed and none was sent, or the token is malformed, unknown or revoked', 'WWW-Authenticate'),
  Forbidden: problem('the token does not allow this request'),
  NotFound: problem('no such resource (process, job, output, agent, user or token), or results not ready'),
  Conflict: problem('the resource is in a state that does not allow this (the user exists, the job has finished)'),
  TooManyRequests: problem("the owner's limit of waiting jobs is reached; the job was not created", 'Retry-After'),
  Unavailable: problem('not possible right now; try again later', 'Retry-After'),
  PayloadTooLarge: problem('request body larger than the limit'),
  UnsupportedMediaType: problem('request body is not JSON'),
  ServerError: problem('server error (details are logged, never returned)'),
  JobFailed: problem('the job failed; `failure.code` says why (400 refused inputs, 503 no agent, 500 failed run)'),
};

export const components = { schemas, parameters, responses, headers };

export const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'a token from `outpost token create` or the admin API' },
  uploadToken: { type: 'http', scheme: 'bearer', description: 'the per-job upload token the agent running the job was given' },
};

/** What each route class of the authentication asks for, and the refusals it may answer with. */
const ACCESS: Record<RouteClass, { security?: unknown[]; responses?: Operation }> = {
  open: { security: [] },
  read: { responses: { 401: response('Unauthorized') } },
  execute: { responses: { 401: response('Unauthorized') } },
  admin: { security: [{ bearer: [] }], responses: { 401: response('Unauthorized'), 403: response('Forbidden') } },
};

/** Operations keep a security of their own (uploads and inline file inputs carry a per-job token); the others get their class's. */
export function withAccess(all: Record<string, Operation>): Record<string, Operation> {
  return Object.fromEntries(
    Object.entries(all).map(([path, operations]) => {
      const { security, responses } = ACCESS[routeClass(path)];
      const guarded = Object.entries(operations).map(([method, operation]) => {
        const { responses: own, ...rest } = operation as Operation;
        if ('security' in rest) return [method, operation];
        return [method, { ...rest, ...(security && { security }), responses: { ...(own as Operation), ...responses } }];
      });
      return [path, Object.fromEntries(guarded)];
    }),
  );
}
