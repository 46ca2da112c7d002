/** Sends a signal to every process of a group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Ends a process group the polite way first: SIGTERM, then SIGKILL once the grace period has
 * passed without the group leader exiting.
 */
export class GroupTermination {
  private timer: NodeJS.Timeout | undefined;
  /** The last signal this termination sent, i.e. the one that ended the leader. */
  lastSignal: NodeJS.Signals | undefined;

  constructor(
    private readonly pgid: number,
    private readonly graceMs: number,
  ) {}

  get started(): boolean {
    return this.lastSignal !== undefined;
  }

  start(): void {
    if (this.started) return;
    this.send('SIGTERM');
    this.timer = setTimeout(() => this.send('SIGKILL'), this.graceMs);
  }

  /**
   * Called once the leader has exited, whatever the reason: whatever is left of the group is
   * killed, so no grandchild outlives the run (unless `groupEnded` says that was done already).
   */
  leaderExited(groupEnded = false): void {
    clearTimeout(this.timer);
    if (!groupEnded) signalGroup(this.pgid, 'SIGKILL');
  }

  private send(signal: NodeJS.Signals): void {
    this.lastSignal = signal;
    signalGroup(this.pgid, signal);
  }
}
