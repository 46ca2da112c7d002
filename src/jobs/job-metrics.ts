import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobEventStream } from './job-events.js';

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Processes with series of their own; the jobs of any process after these count under
 * `OTHER_PROCESSES`, so agents offering ever new process ids cannot grow the metrics (and every
 * scrape) without bound (docs/decisions.md, Security).
 */
export const MAX_PROCESS_LABELS = 200;
/** Not a valid process id (protocol/process-spec.ts), so it names no real process. */
export const OTHER_PROCESSES = '(other)';

/**
 * Prometheus metrics of one orchestrator, in a registry of its own (several orchestrators may
 * share a process in tests). Job counters follow the lifecycle's events.
 */
export function createMetrics(events: JobEventStream, registry: AgentRegistry, waiting: () => number, maxProcessLabels = MAX_PROCESS_LABELS): Registry {
  const metrics = new Registry();
  const labelled = new Set<string>();
  const processLabel = (id: string): string => {
    if (labelled.has(id)) return id;
    if (labelled.size >= maxProcessLabels) return OTHER_PROCESSES;
    labelled.add(id);
    return id;
  };
  collectDefaultMetrics({ register: metrics, prefix: 'outpost_' });
  const submitted = new Counter({ name: 'outpost_jobs_submitted_total', help: 'Jobs accepted for execution', labelNames: ['process'], registers: [metrics] });
  const finished = new Counter({ name: 'outpost_jobs_finished_total', help: 'Jobs finished, by final status', labelNames: ['process', 'status'], registers: [metrics] });
  const runTime = new Histogram({ name: 'outpost_job_run_seconds', help: 'From start on an agent to the end', labelNames: ['process'], buckets: DURATION_BUCKETS, registers: [metrics] });
  const queueTime = new Histogram({ name: 'outpost_job_wait_seconds', help: 'From submission to start on an agent', labelNames: ['process'], buckets: DURATION_BUCKETS, registers: [metrics] });
  new Gauge({ name: 'outpost_agents_online', help: 'Agents online', registers: [metrics], collect() { this.set(registry.agents().length); } });
  new Gauge({ name: 'outpost_processes_offered', help: 'Distinct processes offered', registers: [metrics], collect() { this.set(registry.processes().length); } });
  new Gauge({ name: 'outpost_jobs_waiting', help: 'Jobs waiting for a free agent', registers: [metrics], collect() { this.set(waiting()); } });

  // Jobs seen running, so that each start is timed once.
  const seenRunning = new Set<string>();
  events.listen((event) => {
    if (event.type === 'removed') return;
    const { job } = event;
    const process = processLabel(job.processId);
    if (event.type === 'created') submitted.inc({ process });
    // A job adopted by a new connection of its agent is running again, not starting.
    if (event.type === 'running' && job.started && !seenRunning.has(job.id)) {
      seenRunning.add(job.id);
      queueTime.observe({ process }, seconds(job.created, job.started));
    }
    if (event.type === 'finished') {
      seenRunning.delete(job.id);
      finished.inc({ process, status: job.status });
      if (job.started && job.finished) runTime.observe({ process }, seconds(job.started, job.finished));
    }
  });
  return metrics;
}
