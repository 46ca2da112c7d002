import { EVENT_STREAM_TYPE } from './event-stream.js';
import { AUDIT_ACTIONS } from '../store/audit-store.js';
import { ROLES } from '../store/user-store.js';
import { POOL_BODY } from './admin-pools-routes.js';
import { LIMITS, NEW_TOKEN, NEW_USER } from './admin-users-routes.js';
import { headerRefs, JOB_LIST_PARAMS, jsonContent, ok, param, ref, response } from './openapi-components.js';

type Schema = Record<string, unknown>;

const string = { type: 'string' };
const integer = { type: 'integer' };
const boolean = { type: 'boolean' };
const dateTime = { type: 'string', format: 'date-time' };
const nullable = (schema: Schema) => ({ ...schema, nullable: true });
const arrayOf = (items: Schema) => ({ type: 'array', items });
const object = (properties: Schema, required = Object.keys(properties)) => ({ type: 'object', required, properties });
const links = arrayOf(ref('link'));

/**
 * A body schema as the routes validate it (JSON Schema), in OpenAPI 3.0 terms: a `[type, 'null']`
 * union becomes `nullable`, which is all the admin bodies use of the newer keywords.
 */
function oas30(schema: Schema): Schema {
  const { type, properties, ...rest } = schema;
  const types = ([] as unknown[]).concat(type ?? []);
  const converted: Schema = { ...rest };
  if (types.length > 0) Object.assign(converted, { type: types.find((t) => t !== 'null') }, types.includes('null') && { nullable: true });
  if (properties) {
    converted['properties'] = Object.fromEntries(Object.entries(properties as Record<string, Schema>).map(([k, v]) => [k, oas30(v)]));
  }
  return converted;
}

const agentVersion = object({ jid: string, version: string });
const refusedOffer = object({ process: string, owner: { type: 'string', description: 'the pool that owns the id' }, jid: string, pool: string });

export const adminSchemas: Record<string, Schema> = {
  agent: {
    ...object({
      jid: { type: 'string', description: 'full JID, `name@domain/resource`' },
      pool: { type: 'string', description: 'the pool the account was provisioned into' },
      connectedSince: dateTime,
      lastSeen: dateTime,
      load: object({ slots: integer, running: integer, load1: { type: 'number' }, cores: integer, memFree: { type: 'number' }, draining: boolean }),
      loadHistory: {
        ...arrayOf(object({ at: dateTime, running: integer, slots: integer, load1: { type: 'number' } })),
        description: 'the load at each presence since it connected, oldest first: the last 10 minutes, at most 60 samples',
      },
      assigned: { type: 'integer', description: 'unfinished jobs handed to this agent; `load.running` is its own count at its last presence' },
      drained: { type: 'boolean', description: 'drained by an admin: takes no new jobs' },
      catalog: object({ hash: string, received: { type: 'boolean', description: 'whether the catalog of this hash has arrived' } }),
      processes: arrayOf(object({ id: string, title: string, version: string, maxParallel: integer, file: string }, ['id', 'version'])),
      invalid: arrayOf(object({ file: string, reason: string })),
      notes: arrayOf(object({ file: string, note: string })),
    }),
    description: 'An online agent; the detail and drain answers add `links`.',
  },
  agentList: object({
    agents: arrayOf(ref('agent')),
    conflicts: arrayOf(object({ process: string, version: string, offeredBy: arrayOf(string), differing: arrayOf(agentVersion) })),
    refused: { ...arrayOf(refusedOffer), description: 'offers of process ids another pool owns; never given jobs' },
    links,
  }),
  offeredProcessList: object({
    processes: arrayOf(
      object(
        {
          id: string,
          title: string,
          version: string,
          pool: { type: 'string', description: 'the pool that owns the id; only its agents run it' },
          agents: arrayOf(string),
          conflicts: arrayOf(agentVersion),
          refused: arrayOf(object({ jid: string, pool: string, version: string })),
        },
        ['id', 'version', 'pool'],
      ),
    ),
    links,
  }),
  adminJob: { allOf: [ref('statusInfo'), object({ owner: string, agent: nullable(string), dismissedBy: nullable(string) })] },
  adminJobList: object({ jobs: arrayOf(ref('adminJob')), links }),
  outputValue: {
    oneOf: [
      object({ value: {} }),
      object({ href: string, mediaType: string, size: { type: 'integer', minimum: 0 }, sha256: string, filename: string }, ['href']),
    ],
  },
  jobError: object(
    { code: string, message: string, exitCode: integer, signal: string, stderr: { type: 'string', description: 'the end of the run’s stderr' } },
    ['code', 'message'],
  ),
  adminJobDetail: {
    allOf: [
      ref('adminJob'),
      object({
        inputs: { type: 'object' },
        execution: object({
          response: { type: 'string', enum: ['document', 'raw'] },
          outputs: {
            type: 'object',
            additionalProperties: object({ transmissionMode: { type: 'string', enum: ['value', 'reference'] }, format: object({ mediaType: string }, []) }, []),
          },
          formats: { type: 'object', additionalProperties: string, description: 'output → the media type chosen among its formats' },
        }, ['response']),
        results: nullable({ type: 'object', additionalProperties: ref('outputValue') }),
        error: { allOf: [ref('jobError')], nullable: true },
      }, ['inputs', 'execution']),
    ],
  },
  agentAccountList: object({
    accounts: arrayOf(object({ jid: string, pool: string, created: dateTime, revoked: nullable(dateTime) })),
    links,
  }),
  revokedAgentAccount: object({ jid: string, revoked: { type: 'boolean' }, xmppAccountRemoved: { type: 'boolean' }, links }),
  processPool: object({ id: string, pool: string, links }),
  poolBody: oas30(POOL_BODY),
  killedJob: object({ job: ref('statusInfo'), dismissedBy: string }),
  newUser: oas30(NEW_USER),
  newToken: oas30(NEW_TOKEN),
  limitOverrides: { ...oas30(LIMITS), description: 'Per-user limits; null keeps the configured default.' },
  user: object({ name: string, role: { type: 'string', enum: ROLES }, created: dateTime, limits: ref('limitOverrides') }),
  userList: object({ users: arrayOf(ref('user')), links }),
  token: object({ id: string, user: string, label: nullable(string), created: dateTime, revoked: nullable(dateTime) }),
  issuedToken: {
    allOf: [ref('token'), object({ token: { type: 'string', description: 'the bearer token; it is never shown again' } })],
  },
  tokenList: object({ tokens: arrayOf(ref('token')) }),
  limits: {
    allOf: [ref('limitOverrides'), object({ effective: object({ maxRunning: integer, maxWaiting: integer }) })],
  },
  auditEntry: object({
    id: integer,
    at: { ...dateTime, description: 'when; for refused authentications, the first of that minute' },
    actor: { type: 'string', description: 'the admin user, `cli` for the outpost command on the server, or `unauthenticated`' },
    action: { type: 'string', enum: AUDIT_ACTIONS },
    target: nullable({ type: 'string', description: 'job id, agent JID, user name, token id or process id' }),
    source: { type: 'string', description: 'the remote address of the request (X-Forwarded-For is not trusted), or `local:USER` for the command line' },
    detail: nullable({ type: 'object', description: 'what else the action changed, e.g. the new pool or limits; for refusals the last reason' }),
    count: { type: 'integer', description: 'more than 1 only for refused authentications: how many from this source in this minute' },
  }),
  auditList: object({ entries: arrayOf(ref('auditEntry')), links }),
};

const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: string });
const query = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: string });

export const adminParameters: Record<string, Schema> = {
  jid: path('jid', 'a full JID, or a bare one for the first connection of the account'),
  accountJid: path('jid', 'the bare JID of an agent account, NAME@DOMAIN'),
  userName: path('name', 'name of a user'),
  tokenId: path('id', 'id of a token'),
  user: query('user', 'only jobs of this user'),
  agent: query('agent', 'only jobs run by this agent: a full JID, or a bare one for every connection of the account'),
  auditAction: query('action', `only entries of these actions (comma-separated): ${AUDIT_ACTIONS.join(', ')}`),
  actor: query('actor', 'only entries of this actor'),
  since: { ...query('since', 'only entries at or after this RFC 3339 date-time'), schema: dateTime },
  until: { ...query('until', 'only entries at or before this RFC 3339 date-time'), schema: dateTime },
};

type Operation = Record<string, unknown>;

const op = (summary: string, operationId: string, parameters: unknown[], responses: Operation, extra: Operation = {}) => ({
  summary,
  operationId,
  tags: ['admin'],
  parameters,
  ...extra,
  responses,
});
const body = (schemaName: string, required = true) => ({ requestBody: { required, ...jsonContent(ref(schemaName)) } });
const bodyProblems = { 400: response('BadRequest'), 413: response('PayloadTooLarge'), 415: response('UnsupportedMediaType') };
const notFound = { 404: response('NotFound') };
const created = (description: string, schemaName: string, headers: Schema) => ({ 201: { ...ok(description, schemaName), headers } });

const agentParams = [param('jid')];
const drainPaths = Object.fromEntries(
  (['drain', 'undrain'] as const).map((action) => [
    `/admin/agents/{jid}/${action}`,
    {
      post: op(
        action === 'drain' ? 'drain an agent: it takes no new jobs, also after reconnecting' : 'let a drained agent take jobs again',
        `${action}Agent`,
        agentParams,
        { 200: ok('the agent, by its bare JID for every connection of the account', 'agent'), ...notFound },
      ),
    },
  ]),
);

/** The admin API (docs/architecture.md, HTTP API); its security and 401/403 answers come with its route class. */
export const adminPaths: Record<string, Operation> = {
  '/admin/agents': { get: op('online agents and conflicting process offers', 'getAgents', [], { 200: ok('agents and conflicts', 'agentList') }) },
  '/admin/agents/{jid}': { get: op('one online agent', 'getAgent', agentParams, { 200: ok('the agent', 'agent'), ...notFound }) },
  ...drainPaths,
  '/admin/processes': {
    get: op('processes on offer, with the agents offering each', 'getOfferedProcesses', [], {
      200: ok('the processes', 'offeredProcessList'),
    }),
  },
  '/admin/processes/{processId}/pool': {
    put: op(
      'hand a process id to another pool: from now on only its agents run the process',
      'setProcessPool',
      [param('processId')],
      { 200: ok('the id and its pool', 'processPool'), ...bodyProblems },
      body('poolBody'),
    ),
  },
  '/admin/agent-accounts': {
    get: op('accounts provisioned as agents, with their pools', 'getAgentAccounts', [], { 200: ok('the accounts', 'agentAccountList') }),
  },
  '/admin/agent-accounts/{jid}': {
    delete: op(
      'revoke an agent account: its stanzas are refused, its XMPP account is deleted where Outpost runs the server (closing its connection), and its jobs are handled as a lost agent’s',
      'revokeAgentAccount',
      [param('accountJid')],
      { 200: ok('the revoked account', 'revokedAgentAccount'), 400: response('BadRequest'), 404: response('NotFound') },
    ),
  },
  '/admin/jobs': {
    get: op('jobs of all users, newest first', 'getAllJobs', [...JOB_LIST_PARAMS, param('user'), param('agent')], {
      200: ok('the jobs, with paging links', 'adminJobList'),
      400: response('BadRequest'),
    }),
  },
  '/admin/events': {
    get: op(
      'every job’s changes as Server-Sent Events',
      'getAdminEvents',
      [],
      {
        200: {
          description:
            'a `job` event per change, with `change` (created, assigned, queued, running, progress, agent-lost, kill-requested, finished) ' +
            'and `job` as `/admin/jobs` lists it; a `removed` event with the `jobID` and `reason` of a job its owner dismissed (`dismissed`) or that was kept long enough (`expired`). The stream does not end ' +
            'by itself; it ends with a `revoked` event (an exception, status 401) when the token it was opened with is revoked.',
          content: { [EVENT_STREAM_TYPE]: { schema: string } },
        },
      },
    ),
  },
  '/admin/jobs/{jobId}': {
    get: op('a job’s whole record, stderr included', 'getJobRecord', [param('jobId')], { 200: ok('the job', 'adminJobDetail'), ...notFound }),
  },
  '/admin/jobs/{jobId}/kill': {
    post: op('stop a job and keep it as dismissed, with who killed it', 'killJob', [param('jobId')], {
      200: ok('the job, now dismissed', 'killedJob'),
      ...notFound,
      409: response('Conflict'),
    }),
  },
  '/admin/audit': {
    get: op(
      'the audit log: admin actions and refused authentications, newest first; kept as long as finished jobs',
      'getAudit',
      [param('auditAction'), param('actor'), param('since'), param('until'), param('limit'), param('offset')],
      { 200: ok('the entries, with paging links', 'auditList'), 400: response('BadRequest') },
    ),
  },
  '/admin/users': {
    get: op('users', 'getUsers', [], { 200: ok('the users', 'userList') }),
    post: op(
      'create a user',
      'createUser',
      [],
      { ...created('the user', 'user', headerRefs('Location')), ...bodyProblems, 409: response('Conflict') },
      body('newUser'),
    ),
  },
  '/admin/users/{name}': { get: op('one user', 'getUser', [param('userName')], { 200: ok('the user', 'user'), ...notFound }) },
  '/admin/users/{name}/tokens': {
    get: op('tokens of a user, without the tokens themselves', 'getTokens', [param('userName')], {
      200: ok('the tokens', 'tokenList'),
      ...notFound,
    }),
    post: op(
      'issue a token to a user',
      'createToken',
      [param('userName')],
      {
        ...created('the token, shown this once', 'issuedToken', { 'Cache-Control': { schema: { type: 'string', enum: ['no-store'] } } }),
        ...bodyProblems,
        ...notFound,
      },
      body('newToken', false),
    ),
  },
  '/admin/tokens/{id}': {
    delete: op('revoke a token; it fails at once', 'revokeToken', [param('tokenId')], { 200: ok('the token, now revoked', 'token'), ...notFound }),
  },
  '/admin/users/{name}/limits': {
    get: op('limits of a user', 'getLimits', [param('userName')], { 200: ok('overrides and the limits in effect', 'limits'), ...notFound }),
    put: op(
      'set the limits of a user',
      'setLimits',
      [param('userName')],
      { 200: ok('overrides and the limits in effect', 'limits'), ...bodyProblems, ...notFound },
      body('limitOverrides'),
    ),
  },
};
