/**
 * The journal of every ladder stage the demo's agents ran, written by the stage executors as they
 * are called (not by the demo's script): which guest, which incident and boot, which rung of the
 * ladder and which attempt. The facts the summary states — stages re-run, what ran after the reboot —
 * are computed from it.
 */

/** One stage run. */
export interface StageRun {
  /** The guest's name in the demo (`A`, `B`). */
  guest: string;
  /** 1 for the first incident of the guest, 2 for the second. */
  incident: number;
  /** The guest's boot the agent ran in (1 = first boot; a reboot or a re-created VM adds one). */
  boot: number;
  /** The ladder step, e.g. `restart-app`, `data-swap:latest`. */
  stage: string;
  /** 1-based index of the step in the ladder. */
  step: number;
  attempt: number;
  attempts: number;
  /** What the stage did, e.g. `systemctl restart cc-app`, `swap in a volume from the latest backup`. */
  action: string;
  /** Milliseconds since the demo started. */
  atMs: number;
}

/** Stage runs, in order. */
export class StageJournal {
  private readonly list: StageRun[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Appends a run (its `atMs` is set here). */
  record(run: Omit<StageRun, 'atMs'>): StageRun {
    const entry = { ...run, atMs: this.now() };
    this.list.push(entry);
    return entry;
  }

  /** Every run, in order. */
  get runs(): readonly StageRun[] {
    return this.list;
  }

  /** One guest's runs. */
  of(guest: string): StageRun[] {
    return this.list.filter((r) => r.guest === guest);
  }
}

/** What {@link analyseReruns} finds. */
export interface RerunAnalysis {
  /** Runs of a stage attempt the guest's ladder had already run in this escalation. */
  reruns: StageRun[];
  /** The stages among them, in ladder order, once each. */
  stages: string[];
}

/**
 * The runs that repeat a (stage, attempt) the same guest already ran. Every run of one guest in the
 * demo belongs to one escalation: both incidents fall inside the ladder's stable period, during which
 * a ladder that remembers its escalation goes on from where it stopped instead of starting over.
 */
export function analyseReruns(runs: readonly StageRun[]): RerunAnalysis {
  const seen = new Set<string>();
  const reruns: StageRun[] = [];
  for (const run of runs) {
    const key = `${run.guest}\u0000${run.stage}\u0000${run.attempt}`;
    if (seen.has(key)) reruns.push(run);
    else seen.add(key);
  }
  const stages = [...new Map(reruns.map((r) => [r.stage, r.step])).entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([stage]) => stage);
  return { reruns, stages };
}

/** The run right after the first run of `stage` (what the ladder did next). */
export function runAfter(runs: readonly StageRun[], stage: string): StageRun | undefined {
  const i = runs.findIndex((r) => r.stage === stage);
  return i < 0 ? undefined : runs[i + 1];
}
