/**
 * The facts the demo establishes, as data ({@link DemoSummary}, also printed with `--json`) and as
 * the plain-text table at the end of the walk.
 */
import type { StageRun } from './journal.js';
import { table } from './output.js';
import type { ResourceCount } from './target.js';
import type { DemoMode } from './timing.js';

/** One incident on one guest: the bad record strikes, the ladder runs until the guest is healthy. */
export interface IncidentFacts {
  incident: number;
  /** The ladder steps run, in order, as `stage#attempt`. */
  stages: string[];
  /** API calls from the fault to the recovery. */
  apiCalls: number;
  /** The same, per operation. */
  apiCallsByOperation: Record<string, number>;
  timeMs: number;
  /** The data the application runs on afterwards. */
  dataAfter: string;
  /** The application answered its health probe at the end. */
  healthyAfter: boolean;
  /** The data afterwards still holds the bad record: it will strike again. */
  badRecordRemains: boolean;
}

/** What one approach did and cost. */
export interface ApproachFacts {
  label: string;
  guestId: string;
  /** Whether the approach ran to the end (the older way needs `createImage` of a volume-backed server). */
  ran: boolean;
  /** Why it did not. */
  note?: string | undefined;
  backups: { generations: number; what: string; apiCalls: number; timeMs: number };
  incidents: IncidentFacts[];
  /** Stage runs over both incidents. */
  stageRuns: number;
  /** Runs of a stage attempt the ladder had already run in this escalation, and their stages. */
  rerun: { attempts: number; stages: string[] };
  /** Both incidents together. */
  recovery: { apiCalls: number; timeMs: number };
  /** The servers the guest ran on (one while the VM is kept). */
  servers: string[];
  /** The boot volumes it booted from (one while the boot volume, and its ladder state, is kept). */
  bootVolumes: string[];
  /** How many times the data volume was replaced inside the running VM. */
  swapsInRunningVm: number;
  /** How many times the VM was deleted and re-created. */
  vmRecreations: number;
  /** The old data volume stayed (detached) until the guest was healthy on the new one. */
  previousDataKeptUntilHealthy: boolean;
  /** Whether the guest was healthy at the end. */
  recovered: boolean;
}

/** A data volume swapped in by the agent's data replacement stage. */
export interface SwapFacts {
  incident: number;
  stage: string;
  oldVolumeId: string;
  newVolumeId: string;
  /** Where the new volume came from (the device's description). */
  source: string;
  /** The backup snapshot it was built from, if any. */
  snapshotId: string | undefined;
  /** That backup's generation. */
  generation: number | undefined;
  /** It was built from the newest backup generation at the time. */
  fromLatestBackup: boolean;
  /** Same server before and after. */
  sameServer: boolean;
}

/** Everything the demo shows, for tests and `--json`. */
export interface DemoSummary {
  target: { kind: 'emulator' | 'cloud'; name: string };
  mode: DemoMode;
  /** The data volume swap (dataswap). */
  swap: ApproachFacts & {
    /** After the reboot the new agent loaded the ladder state from the boot volume (phase `rebooting`). */
    stateSurvivedReboot: boolean;
    /** The stage the ladder ran right after the reboot. */
    stageAfterReboot: string | undefined;
    swaps: SwapFacts[];
  };
  /** The older way: whole-VM snapshots, delete and re-create the VM to restore data. */
  olderWay: ApproachFacts & {
    /** After a re-creation, the ladder state on the new boot volume was the snapshot's (the escalation forgotten). */
    stateRolledBack: boolean;
  };
  /** What the demo created, and what is left after the clean-up. */
  resources: { created: ResourceCount; left: ResourceCount; leftTotal: number };
  totalMs: number;
  journal: StageRun[];
}

/** `restart-app ×3 → restart-middleware ×2 → reboot`. */
export function ladderPath(stages: readonly string[]): string {
  const groups: { stage: string; n: number }[] = [];
  for (const s of stages) {
    const name = s.replace(/#\d+$/, '');
    const last = groups.at(-1);
    if (last?.stage === name) last.n++;
    else groups.push({ stage: name, n: 1 });
  }
  return groups.map((g) => (g.n > 1 ? `${g.stage} ×${g.n}` : g.stage)).join(' → ') || '(none)';
}

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`);

/** The side-by-side table. */
export function summaryTable(s: DemoSummary): string[] {
  const a = s.swap;
  const b = s.olderWay;
  const col = (f: (x: ApproachFacts) => string, x: ApproachFacts) =>
    x.ran ? f(x) : `not run: ${x.note ?? ''}`;
  const both = (label: string, f: (x: ApproachFacts) => string): string[] => [label, col(f, a), col(f, b)];
  const incident = (i: number) => (x: ApproachFacts) => {
    const inc = x.incidents[i];
    return inc ? `${ladderPath(inc.stages)}` : '-';
  };
  return table([
    ['', a.label, b.label],
    both('backups', (x) => `${x.backups.generations} × ${x.backups.what}`),
    both('  API calls / time', (x) => `${x.backups.apiCalls} / ${ms(x.backups.timeMs)}`),
    both('incident 1: ladder ran', incident(0)),
    both('incident 2: ladder ran', incident(1)),
    both('stage runs', (x) => String(x.stageRuns)),
    both('steps re-run', (x) =>
      x.rerun.attempts === 0 ? '0' : `${x.rerun.attempts} (stages ${x.rerun.stages.join(', ')})`,
    ),
    both('API calls (both incidents)', (x) => String(x.recovery.apiCalls)),
    both('time (both incidents)', (x) => ms(x.recovery.timeMs)),
    both('VM kept', (x) =>
      x.vmRecreations === 0
        ? `yes (1 server)`
        : `no: re-created ${x.vmRecreations}× (${x.servers.length} servers)`,
    ),
    both('boot volume + ladder state kept', (x) =>
      x.bootVolumes.length === 1 ? 'yes' : `no: rolled back ${x.bootVolumes.length - 1}× to the snapshot`,
    ),
    both('data volume replaced in the running VM', (x) =>
      x.swapsInRunningVm > 0 ? `yes (${x.swapsInRunningVm}×)` : 'no',
    ),
    both('rollback path during a restore', (x) =>
      x.previousDataKeptUntilHealthy ? 'old data volume kept until healthy' : 'none: the VM is deleted first',
    ),
    both('data afterwards', (x) => x.incidents.at(-1)?.dataAfter ?? '-'),
    both('guest healthy at the end', (x) =>
      !x.recovered
        ? 'no'
        : x.incidents.at(-1)?.badRecordRemains
          ? 'yes, until the bad record strikes again (and the ladder starts over)'
          : 'yes',
    ),
  ]);
}

/** The resources table. */
export function resourceTable(s: DemoSummary): string[] {
  const { created, left } = s.resources;
  const kinds = ['servers', 'volumes', 'snapshots', 'images'] as const;
  return table([
    ['', ...kinds],
    ['created by the demo', ...kinds.map((k) => String(created[k]))],
    ['left after clean-up', ...kinds.map((k) => String(left[k]))],
  ]);
}
