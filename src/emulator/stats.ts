/** Counts of the API calls the emulator received, for the demo, benchmarks and tests. */
export interface EmulatorStats {
  /** Every request received (including version documents, failed and faulted calls). */
  readonly total: number;
  /** Requests answered by an injected fault (status, hang or reset). */
  readonly faultsInjected: number;
  /** The count of one operation, e.g. `nova.attach` (0 when never called). */
  get(operation: string): number;
  /** Every operation called at least once, with its count. */
  byOperation(): Record<string, number>;
  /** Sets every count back to zero. */
  reset(): void;
}

/** The counter behind {@link EmulatorStats}. */
export class StatsCounter implements EmulatorStats {
  private readonly counts = new Map<string, number>();
  private totalCalls = 0;
  private faults = 0;

  get total(): number {
    return this.totalCalls;
  }

  get faultsInjected(): number {
    return this.faults;
  }

  /** Counts one call of `operation`. */
  record(operation: string): void {
    this.totalCalls++;
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /** Counts one injected fault. */
  recordFault(): void {
    this.faults++;
  }

  get(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  byOperation(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.counts.clear();
    this.totalCalls = 0;
    this.faults = 0;
  }
}
