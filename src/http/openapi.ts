import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { describeInputs } from '../jobs/input-schema.js';
import type { ProcessSpec } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { AGENT_PACKAGE_PATH } from './agent-package-routes.js';
import { API_DESCRIPTION, API_TITLE } from './landing-routes.js';
import { absoluteUrl, OPENAPI_TYPE } from './links.js';
import { EXECUTE_REQUEST_SCHEMA } from './execute-request.js';
import { EVENT_STREAM_TYPE } from './job-events-routes.js';
import { adminParameters, adminPaths, adminSchemas } from './openapi-admin.js';
import { components, headerRefs, JOB_LIST_PARAMS, jsonContent, ok, okOrPage, param, ref, response, securitySchemes, withAccess } from './openapi-components.js';
import { outputSchema } from './process-description.js';

type Operation = Record<string, unknown>;

const get = (summary: string, operationId: string, responses: Operation, parameters: unknown[] = []) => ({
  get: { summary, operationId, parameters: [param('f'), ...parameters], responses },
});

/** `results` is the document's schema; the raw body is any one output. */
function resultsResponses(results: unknown) {
  return {
    200: {
      description: 'results document (`response=document`), or the one output as the body (`response=raw`)',
      content: { 'application/json': { schema: results }, '*/*': { schema: {} } },
    },
    204: {
      description: '`response=raw` with every output sent by reference: one `Link` header (rel `enclosure`) per output',
      headers: { Link: { schema: { type: 'string' } } },
    },
  };
}

/** OGC 18-062r2 callback class: what the server POSTs to each URI of the request's `subscriber`. */
const callback = (member: string, summary: string, schema: string) => ({
  [`{$request.body#/subscriber/${member}}`]: {
    post: { summary, requestBody: { required: true, ...jsonContent(ref(schema)) }, responses: { 200: { description: 'delivered; any 2xx will do' } } },
  },
});
const SUBSCRIBER_CALLBACKS = {
  jobCompleted: callback('successUri', 'the results document once the job succeeded', 'results'),
  jobInProgress: callback('inProgressUri', 'the job status as it runs, at most once a second', 'statusInfo'),
  jobFailed: callback('failedUri', 'the job status once it failed', 'statusInfo'),
};

function executeOperation(operationId: string, summary: string, body: unknown, parameters: unknown[], results: unknown = ref('results')) {
  return {
    post: {
      summary,
      description: 'Runs synchronously unless `Prefer: respond-async` is sent (OGC 18-062r2 §7.11).',
      operationId,
      parameters: [...parameters, param('prefer')],
      requestBody: { required: false, ...jsonContent(body) },
      callbacks: SUBSCRIBER_CALLBACKS,
      responses: {
        ...resultsResponses(results),
        201: {
          description: 'job created (`Prefer: respond-async`); `Location` names the job',
          headers: { ...headerRefs('Location'), 'Preference-Applied': { schema: { type: 'string' } } },
          ...jsonContent(ref('statusInfo')),
        },
        400: response('BadRequest'),
        404: response('NotFound'),
        410: { description: 'the job was dismissed while the request waited', ...jsonContent(ref('exception')) },
        413: response('PayloadTooLarge'),
        415: response('UnsupportedMediaType'),
        429: response('TooManyRequests'),
        500: response('JobFailed'),
        503: response('JobFailed'),
      },
    },
  };
}

const text = { type: 'string' };
const binary = { type: 'string', format: 'binary' };

/** A document that is not JSON, such as a page, a script or the metrics. */
function nonJsonGet(summary: string, operationId: string, content: Record<string, unknown>, responses: Operation = {}, parameters: unknown[] = []) {
  const body = Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }]));
  return { get: { summary, operationId, parameters, responses: { 200: { description: summary, content: body }, ...responses } } };
}
const fileParam = { name: 'file', in: 'path', required: true, description: 'name of the file', schema: text };

const paths: Record<string, Operation> = {
  '/': get('landing page', 'getLandingPage', { 200: okOrPage('links to the API', 'landingPage'), 500: response('ServerError') }),
  '/conformance': get('conformance classes', 'getConformance', { 200: okOrPage('conformance classes', 'confClasses') }),
  '/api': get('this API definition', 'getApi', {
    200: { description: 'OpenAPI 3.0 document', content: { [OPENAPI_TYPE]: { schema: { type: 'object' } } } },
  }),
  '/api.html': nonJsonGet('API documentation (Swagger UI)', 'getApiDocs', { 'text/html': text }),
  '/api.html/assets/init.js': nonJsonGet('script that points Swagger UI at `/api`', 'getApiDocsInit', { 'text/javascript': text }),
  '/api.html/assets/{file}': nonJsonGet(
    'a file of Swagger UI',
    'getApiDocsAsset',
    { 'text/css': text, 'text/javascript': text, 'image/png': binary },
    { 404: response('NotFound') },
    [fileParam],
  ),
  '/admin/ui': nonJsonGet('the admin web page; it asks the admin API with a token typed into it', 'getAdminPage', { 'text/html': text }, {
    301: { description: 'to `ui/`, since the page refers to its files relatively', headers: headerRefs('Location') },
  }),
  '/admin/ui/{file}': nonJsonGet(
    'a file of the admin web page',
    'getAdminPageFile',
    { 'text/html': text, 'text/javascript': text, 'text/css': text, 'image/svg+xml': text },
    { 404: response('NotFound') },
    [fileParam],
  ),
  '/assets/{file}': nonJsonGet(
    'a style sheet, script or icon of the HTML pages',
    'getPageAsset',
    { 'text/javascript': text, 'text/css': text, 'image/svg+xml': text },
    { 404: response('NotFound') },
    [fileParam],
  ),
  [AGENT_PACKAGE_PATH]: nonJsonGet(
    'the agent package, for `npm install -g` on a machine that runs programs; its dependencies are bundled',
    'getAgentPackage',
    { 'application/gzip': binary },
    { 304: { description: 'unchanged since the `ETag` sent in `If-None-Match`' }, 404: response('NotFound') },
  ),
  '/metrics': nonJsonGet('metrics in the Prometheus text format; open to all only with `--metrics-open true`', 'getMetrics', { 'text/plain': text }),
  '/healthz': get('liveness probe', 'getHealth', { 200: ok('the server is running', 'probe') }),
  '/readyz': get('readiness probe', 'getReadiness', {
    200: ok('ready to run jobs', 'probe'),
    503: ok('not ready (no link to the XMPP server)', 'probe'),
  }),
  '/processes': get(
    'processes offered by the agents',
    'getProcesses',
    { 200: okOrPage('process summaries, with a `next` link when more follow', 'processList'), 400: response('BadRequest') },
    [param('limit'), param('offset')],
  ),
  '/processes/{processId}': get(
    'process description',
    'getProcessDescription',
    { 200: okOrPage('the process, its inputs and outputs', 'process'), 404: response('NotFound') },
    [param('processId')],
  ),
  '/processes/{processId}/execution': executeOperation('execute', 'execute a process', ref('execute'), [param('processId')]),
  '/jobs': get(
    'jobs, newest first',
    'getJobs',
    { 200: okOrPage('status of each job, with paging links', 'jobList'), 400: response('BadRequest') },
    JOB_LIST_PARAMS,
  ),
  '/jobs/{jobId}': {
    ...get('job status', 'getStatus', { 200: okOrPage('the status of the job', 'statusInfo'), 404: response('NotFound') }, [
      param('jobId'),
    ]),
    delete: {
      summary: 'dismiss a job: stops it if running, then removes it',
      operationId: 'dismiss',
      parameters: [param('jobId')],
      responses: { 200: ok('the job, now dismissed', 'statusInfo'), 404: response('NotFound'), 500: response('ServerError') },
    },
  },
  '/jobs/{jobId}/events': {
    get: {
      summary: 'status and progress of a job as Server-Sent Events',
      description:
        'One `status` event with the statusInfo as it is, then one per change; the stream ends after a finished status, ' +
        'or with a `revoked` event (an exception, status 401) when the token it was opened with is revoked.',
      operationId: 'getStatusEvents',
      parameters: [param('jobId')],
      responses: {
        200: { description: '`status` events, each with a statusInfo as data', content: { [EVENT_STREAM_TYPE]: { schema: { type: 'string' } } } },
        404: response('NotFound'),
      },
    },
  },
  '/jobs/{jobId}/results': get(
    'results of a job',
    'getResult',
    {
      ...resultsResponses(ref('results')),
      200: {
        description: 'results document, or the one output as the body (`response=raw`), or with `f=html` the results page',
        content: { 'application/json': { schema: ref('results') }, 'text/html': { schema: text }, '*/*': { schema: {} } },
      },
      400: response('JobFailed'),
      404: response('NotFound'),
      500: response('JobFailed'),
      503: response('JobFailed'),
    },
    [param('jobId')],
  ),
  '/jobs/{jobId}/results/{outputId}': get(
    'one output of a job',
    'getResultOutput',
    {
      200: {
        description: 'an uploaded file as an attachment, with its media type and length; a value as its raw body',
        content: { '*/*': { schema: binary } },
      },
      400: response('JobFailed'),
      404: response('NotFound'),
      500: response('JobFailed'),
      503: response('JobFailed'),
    },
    [param('jobId'), param('outputId')],
  ),
  '/uploads/{jobId}/{outputId}': {
    put: {
      summary: 'store an output of a job as a file',
      description: 'Used by the agent running the job, with the upload token it was given for the job; the body is the file.',
      operationId: 'uploadOutput',
      security: [{ uploadToken: [] }],
      parameters: [param('jobId'), param('outputId')],
      requestBody: { required: true, content: { '*/*': { schema: binary } } },
      responses: {
        201: {
          description: 'the file is stored; `Location` is where the job’s owner gets it',
          headers: headerRefs('Location'),
          ...jsonContent({
            type: 'object',
            required: ['href', 'size', 'sha256'],
            properties: { href: text, size: { type: 'integer' }, sha256: { type: 'string', description: 'hex SHA-256 of the file' } },
          }),
        },
        400: response('BadRequest'),
        401: response('Unauthorized'),
        403: response('Forbidden'),
        404: response('NotFound'),
        409: response('Conflict'),
        413: response('PayloadTooLarge'),
        503: response('Unavailable'),
      },
    },
  },
  '/inputs/{jobId}/{inputId}': {
    get: {
      summary: 'fetch a file input of a job that its client sent inline',
      description: 'Used by the agent running the job, with the upload token it was given for the job.',
      operationId: 'fetchInput',
      security: [{ uploadToken: [] }],
      parameters: [param('jobId'), param('inputId')],
      responses: {
        200: { description: 'the file', content: { 'application/octet-stream': { schema: binary } } },
        401: response('Unauthorized'),
        403: response('Forbidden'),
        404: response('NotFound'),
        409: response('Conflict'),
      },
    },
  },
};

/** The execute request of one process, with its own inputs and outputs spelled out. */
function executeSchema(spec: ProcessSpec): Record<string, unknown> {
  const inputs = Object.entries(describeInputs(spec.inputs));
  const { properties } = EXECUTE_REQUEST_SCHEMA;
  return {
    ...EXECUTE_REQUEST_SCHEMA,
    properties: {
      ...properties,
      inputs: {
        type: 'object',
        properties: Object.fromEntries(inputs.map(([id, input]) => [id, { ...input.schema, description: input.description }])),
        required: inputs.filter(([, input]) => input.minOccurs > 0).map(([id]) => id),
        additionalProperties: false,
      },
      outputs: {
        type: 'object',
        properties: Object.fromEntries(Object.keys(spec.outputs).map((id) => [id, properties.outputs.additionalProperties])),
        additionalProperties: false,
      },
    },
  };
}

/** The results document of one process: each output inline or as a link, as the request asked (files are links unless asked for by value). */
function resultsSchema(spec: ProcessSpec): Record<string, unknown> {
  const outputs = Object.entries(spec.outputs).map(([id, output]) => [
    id,
    { anyOf: [output.type === 'file' ? ref('qualifiedValue') : outputSchema(output), ref('link')], description: output.description },
  ]);
  return { type: 'object', properties: Object.fromEntries(outputs) };
}

function processPaths(specs: ProcessSpec[]): Record<string, Operation> {
  return Object.fromEntries(
    specs.map((spec) => [
      `/processes/${spec.id}/execution`,
      executeOperation(`execute:${spec.id}`, `execute ${spec.title ?? spec.id}`, executeSchema(spec), [], resultsSchema(spec)),
    ]),
  );
}

export function openApiDocument(ctx: Context, registry: AgentRegistry): Record<string, unknown> {
  const specs = registry.processes().map(({ spec }) => spec);
  return {
    openapi: '3.0.3',
    info: { title: API_TITLE, version: '1.0.0', description: API_DESCRIPTION },
    servers: [{ url: absoluteUrl(ctx, '') }],
    // Concrete paths take precedence over templated ones (OpenAPI 3.0.3 §4.7.8), so each
    // offered process documents its own inputs beside the generic execute operation.
    paths: withAccess({ ...paths, ...adminPaths, ...processPaths(specs) }),
    // Optional at the top: what needs a token depends on the server's access settings (docs/decisions.md, Users and access).
    security: [{ bearer: [] }, {}],
    components: {
      ...components,
      schemas: { ...components.schemas, ...adminSchemas },
      parameters: { ...components.parameters, ...adminParameters },
      securitySchemes,
    },
  };
}

/** OGC 18-062r2 §7.3 (oas30 class): the API definition at `/api`, following the processes on offer. */
export function openApiRoutes(router: Router, registry: AgentRegistry): void {
  router.get('/api', (ctx) => {
    ctx.type = OPENAPI_TYPE;
    ctx.body = JSON.stringify(openApiDocument(ctx, registry));
  });
}
