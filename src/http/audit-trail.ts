import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AuditAction, AuditStoreApi } from '../store/audit-store.js';
import { requestAdmin } from './job-access.js';

/** The audit log as the routes write it. */
export type AuditLog = Pick<AuditStoreApi, 'record' | 'refusedAuthentication'>;

/**
 * Where a request came from: the address of its connection. No proxy is trusted (no setting
 * names one), so `X-Forwarded-For` is never read: anyone could write it (docs/decisions.md, Retention and audit).
 */
export function requestSource(ctx: Context): string {
  return (ctx.req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** Records an admin action that was done, by the admin making the request. */
export function auditAction(ctx: Context, audit: AuditLog, action: AuditAction, target: string, detail?: Record<string, unknown>): Promise<void> {
  return audit.record({ actor: requestAdmin(ctx), action, target, source: requestSource(ctx), ...(detail && { detail }) });
}

/**
 * Records a request whose credentials (a bearer or upload token) were refused, and why. A store
 * that cannot take the count (disk full, read-only) is logged: the refusal is answered as always.
 */
export function auditRefusal(ctx: Context, audit: AuditLog, reason: string, logger: Logger): void {
  const source = requestSource(ctx);
  audit.refusedAuthentication(source, reason).catch((err: Error) => {
    logger.error({ source, err: err.message }, 'a refused authentication could not be recorded in the audit log');
  });
}
