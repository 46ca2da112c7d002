import type { ServiceDefinition } from './service-definition.js';

/**
 * Stands for the run's id in what a WPS Remote service.config builds from `%(unique_exe_id)s`
 * (arguments, output paths, its per-run directory) until a run gives it a value. Run ids are
 * job ids (`[A-Za-z0-9_-]+`, chosen by the orchestrator), so no one can steer a path with them.
 */
export const RUN_ID_TOKEN = '\u{F8FF}run-id\u{F8FF}';

/** The service as one run sees it: every RUN_ID_TOKEN replaced by `runId`. */
export function forRun(service: ServiceDefinition, runId: string): ServiceDefinition {
  if (!namesRunId(service)) return service;
  return JSON.parse(JSON.stringify(service).replaceAll(RUN_ID_TOKEN, runId)) as ServiceDefinition;
}

/** The run's directories (`runDirs`) with its id in place. */
export function runDirsOf(service: ServiceDefinition, runId: string): string[] {
  return (service.runDirs ?? []).map((dir) => dir.replaceAll(RUN_ID_TOKEN, runId));
}

/** Asked once per service definition (a catalog change makes new ones), not once per run. */
const namingRunId = new WeakMap<ServiceDefinition, boolean>();

function namesRunId(service: ServiceDefinition): boolean {
  let names = namingRunId.get(service);
  if (names === undefined) {
    names = JSON.stringify(service).includes(RUN_ID_TOKEN);
    namingRunId.set(service, names);
  }
  return names;
}
