import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';

export const AGENT_PACKAGE_PATH = '/agent/outpost-agent.tgz';
/** Where `npm run build` packs the agent (scripts/pack-agent.ts), beside the compiled orchestrator. */
const BUILT_PACKAGE = fileURLToPath(new URL('../../outpost-agent.tgz', import.meta.url));

/**
 * The agent package, for `npm install -g URL` on a machine that reaches only the orchestrator
 * (docs/decisions.md, Fabric). Open to all: it holds no secrets, only the code and its bundled
 * dependencies. Read from disk per request, so a rebuild is served without a restart.
 */
export function agentPackageRoutes(router: Router, file = BUILT_PACKAGE): void {
  router.get(AGENT_PACKAGE_PATH, async (ctx) => {
    const stats = await stat(file).catch(() => undefined);
    if (!stats?.isFile()) throw new OutpostError('not-found', 404, 'the agent package has not been built: run npm run build on the orchestrator');
    ctx.status = 200;
    ctx.type = 'application/gzip';
    ctx.length = stats.size;
    ctx.etag = `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    ctx.lastModified = stats.mtime;
    ctx.set('Content-Disposition', 'attachment; filename="outpost-agent.tgz"');
    // Koa's `fresh` compares If-None-Match with the ETag (RFC 9110 §13.1.2).
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = createReadStream(file);
  });
}
