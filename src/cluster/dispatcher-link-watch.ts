/** What the watch needs of the component link: its state and its two events. */
export interface WatchedLink {
  readonly online: boolean;
  on(event: 'online' | 'offline', listener: () => void): unknown;
  off(event: 'online' | 'offline', listener: () => void): unknown;
}

/**
 * A dispatcher whose component link stays down for `graceMs` gives up (`giveUp`, the fencing
 * exit), so that an instance beside a live ejabberd node takes the lease: the link has no TLS, so
 * a dispatcher only connects to the node beside it and cannot move itself (docs/scale-out.md §5).
 * Returns the stop of the watch.
 */
export function watchDispatcherLink(link: WatchedLink, graceMs: number, giveUp: (reason: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const down = () => {
    clearTimeout(timer);
    timer = setTimeout(() => giveUp(`its XMPP component link has been down for ${graceMs / 1000} s`), graceMs);
  };
  const up = () => clearTimeout(timer);
  link.on('offline', down);
  link.on('online', up);
  if (!link.online) down();
  return () => {
    up();
    link.off('offline', down);
    link.off('online', up);
  };
}
