import type { Logger } from 'pino';
import type { JobRecord } from '../store/job-record.js';
import type { JobChangeEvent, JobEventStream } from './job-events.js';

/** Who stopped a job: an admin by name, or its owner by dismissing it. */
const stoppedBy = (by: string | null) => (by === null ? 'its owner' : `admin ${by}`);

/** The line of a finished job: its status, with the cause of a failure or who dismissed it. */
function finishedLine(job: JobRecord): [Record<string, unknown>, string] {
  if (job.status === 'failed') return [{ code: job.error?.code, cause: job.error?.message }, 'job failed'];
  if (job.status === 'dismissed') return [{ by: job.dismissedBy }, `job dismissed by ${stoppedBy(job.dismissedBy)}`];
  return [{}, 'job successful'];
}

/**
 * One log line per change of a job, at `info` (progress ticks at `debug`), each naming the job,
 * its process and its agent (docs/decisions.md, Jobs): what an operator follows in the
 * orchestrator's log. A listener of the lifecycle's events, nothing more.
 */
export function logJobEvents(events: JobEventStream, logger: Logger): () => void {
  // Jobs whose agent was lost: their next `running` is the agent coming back.
  const lost = new Set<string>();
  const line = (event: JobChangeEvent, fields: Record<string, unknown>, message: string) => {
    const agent = 'agent' in event ? event.agent : event.job.agent;
    logger.info({ job: event.job.id, process: event.job.processId, agent, ...fields }, message);
  };
  return events.listen((event) => {
    if (event.type === 'removed') {
      // Retention removes jobs by the thousand and logs each batch; one line per job would drown the log.
      const fields = { job: event.job.id, process: event.job.processId };
      return event.reason === 'expired' ? logger.debug(fields, 'job removed: kept long enough') : logger.info(fields, 'job removed');
    }
    const { job } = event;
    switch (event.type) {
      case 'created':
        return line(event, { owner: job.owner }, 'job submitted');
      case 'assigned':
        return line(event, {}, 'job dispatched');
      case 'queued':
        return line(event, {}, 'job requeued: it waits for an agent again');
      case 'running':
        if (lost.delete(job.id)) return line(event, {}, 'agent back: it reports the job running');
        return line(event, {}, 'job running');
      case 'progress':
        return logger.debug({ job: job.id, process: job.processId, agent: job.agent, progress: job.progress, message: job.message }, 'job progress');
      case 'kill-requested':
        return line(event, { by: event.by }, `job kill requested by ${stoppedBy(event.by)}`);
      case 'agent-lost':
        lost.add(job.id);
        return line(event, { graceMs: event.graceMs }, `agent lost: ${job.message}`);
      case 'finished': {
        lost.delete(job.id);
        const [fields, message] = finishedLine(job);
        return line(event, fields, message);
      }
    }
  });
}
