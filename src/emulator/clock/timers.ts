/**
 * Every timer the emulator starts goes through one registry, so `close()` can cancel all of them
 * (no handle may outlive the emulator, or jest would not exit) and tests can wait until every
 * pending status transition has happened.
 */
export class TimerRegistry {
  private readonly handles = new Set<NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  /**
   * Runs `fn` after `ms` milliseconds (0 still defers to a later turn of the event loop, so a
   * response always shows the transient status first). Ignored once the registry is closed.
   */
  schedule(ms: number, fn: () => void): void {
    if (this.closed) return;
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      try {
        fn();
      } finally {
        // A callback that schedules the next step keeps the registry busy: check afterwards.
        if (this.handles.size === 0) this.flushIdle();
      }
    }, Math.max(0, ms));
    this.handles.add(handle);
  }

  /** Resolves after `ms` milliseconds, or never if the registry closes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.handles.size;
  }

  /** Resolves once no timer is pending (at once when none is). */
  idle(): Promise<void> {
    if (this.handles.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels every pending timer; later `schedule` calls do nothing. */
  close(): void {
    this.closed = true;
    for (const h of this.handles) clearTimeout(h);
    this.handles.clear();
    this.flushIdle();
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
