/** Where a child finds its programs; the agent's own PATH is not passed on. */
export const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The whole environment of a child: a fixed minimum plus the service's own variables. The
 * agent's environment is never passed through, as it may hold passwords and tokens.
 */
export function childEnv(workDir: string, jobId: string, serviceEnv: Record<string, string>): Record<string, string> {
  return {
    PATH: CHILD_PATH,
    HOME: workDir,
    TMPDIR: workDir,
    LANG: 'C.UTF-8',
    ...serviceEnv,
    // Last, so a service cannot pose as another job.
    OUTPOST_JOB_ID: jobId,
  };
}
