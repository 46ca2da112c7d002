import type { AgentMessage, TerminalEvent } from '../../protocol/index.js';
import type { JobOutcome } from '../store/job-store.js';
import { resultPath } from '../store/result-files.js';
import type { JobLifecycle } from './job-lifecycle.js';

/**
 * Translates agents' messages into lifecycle calls (docs/protocol.md); the lifecycle checks that
 * the sender is the job's agent and applies each event once by job id and sequence number.
 */
export class AgentEvents {
  readonly #lifecycle: JobLifecycle;

  constructor(lifecycle: JobLifecycle) {
    this.#lifecycle = lifecycle;
  }

  /** Settles once the message has been applied. */
  async handle(jid: string, message: AgentMessage): Promise<void> {
    switch (message.type) {
      case 'accepted':
        return this.#lifecycle.running(jid, message.job);
      case 'progress':
        return this.#lifecycle.progress(jid, message.job, message.seq, message.progress, message.message ?? null);
      case 'completed':
      case 'failed':
      case 'killed':
        return this.#lifecycle.ended(jid, message.job, message.seq, outcome(message));
      case 'rejected':
        return this.#lifecycle.rejected(jid, message.job, message.reason, message.message);
      case 'jobs':
        return this.#lifecycle.inFlight(jid, message.jobs);
      case 'error':
        if (message.code === 'unknown-job' && message.job) return this.#lifecycle.notRunning(jid, message.job);
        return;
      case 'catalog':
        return;
    }
  }
}

function outcome(event: TerminalEvent): JobOutcome {
  switch (event.type) {
    case 'completed':
      return completed(event);
    case 'failed': {
      const { v: _v, type: _t, job: _j, seq: _s, ...error } = event;
      return { status: 'failed', error };
    }
    case 'killed':
      return { status: 'failed', error: { code: 'signal', message: 'the run was stopped on its agent (the agent shut down)', signal: event.signal } };
  }
}

/** An output reported by reference must be one this server stored; anything else is refused, not served. */
function completed(event: Extract<TerminalEvent, { type: 'completed' }>): JobOutcome {
  for (const [name, value] of Object.entries(event.outputs)) {
    if ('href' in value && value.href !== resultPath(event.job, name)) {
      return { status: 'failed', error: { code: 'output', message: `output '${name}' was reported at '${value.href.slice(0, 200)}', which is not where this server stores results` } };
    }
  }
  return { status: 'successful', results: event.outputs };
}
