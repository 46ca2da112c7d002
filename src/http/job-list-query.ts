import type { Context } from 'koa';
import { JOB_STATUSES, type JobFilter, type JobStatus } from '../store/job-record.js';
import { parsePaging } from './paging.js';
import { integerParam, invalidParameter, listParam, singleParam } from './query-params.js';

/** RFC 3339 date-time with a time zone. A `+` offset arrives as a space when the client did not encode it. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+ -]\d{2}:\d{2})$/;
const OPEN_END = ['', '..'];

/** The instant an RFC 3339 date-time names, as `Date#toISOString()` writes it; undefined when it is not one. */
export function rfc3339Instant(raw: string): string | undefined {
  const value = raw.replace(/ (\d{2}:\d{2})$/, '+$1');
  return DATE_TIME.test(raw) && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
}

function instant(raw: string): string {
  const at = rfc3339Instant(raw);
  if (at === undefined) {
    throw invalidParameter(
      'datetime',
      `must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z, or an interval 'start/end' with '..' for an open end; got '${raw}'`,
    );
  }
  return at;
}

/** OGC 18-062r2 §11 `datetime` on the job's creation time: an instant, or an interval with open ends. */
function createdRange(ctx: Context): Pick<JobFilter, 'createdFrom' | 'createdTo'> {
  const raw = singleParam(ctx, 'datetime');
  if (raw === undefined) return {};
  const parts = raw.split('/');
  if (parts.length === 1) {
    const at = instant(raw);
    return { createdFrom: at, createdTo: at };
  }
  const [start = '', end = ''] = parts;
  if (parts.length !== 2 || (OPEN_END.includes(start) && OPEN_END.includes(end))) {
    throw invalidParameter('datetime', `must be an instant or an interval 'start/end' with at least one end given; got '${raw}'`);
  }
  const range = {
    createdFrom: OPEN_END.includes(start) ? undefined : instant(start),
    createdTo: OPEN_END.includes(end) ? undefined : instant(end),
  };
  if (range.createdFrom && range.createdTo && range.createdFrom > range.createdTo) {
    throw invalidParameter('datetime', `interval starts after it ends: '${raw}'`);
  }
  return range;
}

function statuses(ctx: Context): JobStatus[] | undefined {
  const values = listParam(ctx, 'status');
  const unknown = values?.find((value) => !(JOB_STATUSES as readonly string[]).includes(value));
  if (unknown !== undefined) throw invalidParameter('status', `must be one of ${JOB_STATUSES.join(', ')}; got '${unknown}'`);
  return values as JobStatus[] | undefined;
}

function durations(ctx: Context): Pick<JobFilter, 'minDuration' | 'maxDuration'> {
  const minDuration = integerParam(ctx, 'minDuration', { min: 0 });
  const maxDuration = integerParam(ctx, 'maxDuration', { min: 0 });
  if (minDuration !== undefined && maxDuration !== undefined && minDuration > maxDuration) {
    throw invalidParameter('minDuration', `(${minDuration}) must not exceed maxDuration (${maxDuration})`);
  }
  return { minDuration, maxDuration };
}

/** Only jobs of type `process` exist (OGC 18-062r2 §11, `type`), so the parameter is checked and needs no filter. */
function checkType(ctx: Context): void {
  const other = listParam(ctx, 'type')?.find((value) => value !== 'process');
  if (other !== undefined) throw invalidParameter('type', `must be 'process'; got '${other}'`);
}

/** The job-list query parameters (OGC 18-062r2 §11, job-list class) as a store filter, without the owner. */
export function parseJobListQuery(ctx: Context): Omit<JobFilter, 'owner'> {
  checkType(ctx);
  return {
    processIds: listParam(ctx, 'processID'),
    statuses: statuses(ctx),
    ...createdRange(ctx),
    ...durations(ctx),
    ...parsePaging(ctx),
  };
}
