/** Where a child finds its programs; the agent's own PATH is not passed on. */
export const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The whole environment of a child: a fixed minimum plus the service's own variables. The
 * agent's environment is never passed through, as it may hold passwords and tokens.
 * UTF-8 comes through LC_CTYPE alone: C.UTF-8 differs from C in nothing else, and LANG would
 * make every C program load each of its twelve categories at start, a third more CPU for a
 * short one such as /bin/echo (docs/decisions.md, Performance). A service's `env` may set LANG.
 */
export function childEnv(workDir: string, jobId: string, serviceEnv: Record<string, string>): Record<string, string> {
  return {
    PATH: CHILD_PATH,
    HOME: workDir,
    TMPDIR: workDir,
    LC_CTYPE: 'C.UTF-8',
    ...serviceEnv,
    // Last, so a service cannot pose as another job.
    OUTPOST_JOB_ID: jobId,
  };
}
