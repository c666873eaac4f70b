/**
 * Part 3, fleet backup: guests on the emulator with one fixed delay for every cloud transition, the
 * daily backup of all of them through `ManagementDevice.backupFleet()` with the default policy;
 * then again with the emulator answering 429 to 10 % of the calls.
 */
import { bundleChild } from '../lib/bundle.js';
import { runChild, startChild } from '../lib/child.js';
import type { PartOptions, PartReport, Target } from '../lib/report.js';
import { median } from '../lib/stats.js';
import { ms, num, ratio, table } from '../lib/table.js';
import type { EmulatorCloudConfig } from '../../src/emulator/index.js';

interface BackupRun {
  probeMs: number[];
  probeCalls: number[];
  probePolls: Record<string, number>;
  fleetPolls: Record<string, number>;
  listed: number;
  listMs: number;
  guests: number;
  fleetMs: number;
  fleetCalls: number;
  cpuMs: number;
  failures: number;
  firstFailure?: string;
  concurrency: number;
  peakConcurrency: number;
  peakRssMiB: number;
  memory: { heapUsedMiB: number; heapTotalMiB: number; externalMiB: number };
}
interface HostStats {
  total: number;
  faultsInjected: number;
  peakRssMiB: number;
}

/** The one delay of every emulated transition (snapshot creation is the backup's), ms. */
export const FLEET_DELAY_MS = 200;

/** `{2: 990, 3: 10}` → `2 polls: 990, 3 polls: 10`. */
function pollText(h: Record<string, number>): string {
  return Object.entries(h)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([k, v]) => `${k} polls: ${num(v)}`)
    .join(', ');
}

export async function runFleet(opts: PartOptions): Promise<PartReport> {
  const guests = opts.quick ? 100 : 1000;
  const probes = 3;
  const host = await startChild<{ cloudConfig: EmulatorCloudConfig }>({
    script: 'lib/emulator-host.ts',
    args: [JSON.stringify({ delays: FLEET_DELAY_MS, pageSize: 1000 })],
    ipc: true,
    verbose: opts.verbose,
  });
  try {
    const config = JSON.stringify(host.info.cloudConfig);
    opts.log(`fleet: creating ${guests} guests on the emulator (setup, not measured)`);
    const setup = await runChild<{ softwareImageId: string; startupImageId: string; setupMs: number }>({
      script: 'fleet/setup.ts',
      args: [config, String(guests)],
      timeoutMs: 600_000,
      verbose: opts.verbose,
    });
    // The measured process runs compiled, on plain node (tsx's loader alone holds about 40 MiB).
    const backupScript = (await bundleChild('fleet/backup.ts')) ?? 'fleet/backup.ts';
    const baselineScript = (await bundleChild('lib/baseline-rss.ts')) ?? 'lib/baseline-rss.ts';
    const compiled = backupScript.endsWith('.mjs');
    opts.log(`fleet: setup took ${ms(setup.setupMs)}; backing up the fleet`);
    await host.call({ cmd: 'resetStats' });
    const clean = await runChild<BackupRun>({
      script: backupScript,
      args: [config, setup.softwareImageId, setup.startupImageId, String(probes)],
      timeoutMs: 600_000,
      verbose: opts.verbose,
    });
    const cleanStats = await host.call<HostStats>({ cmd: 'resetStats' });
    opts.log('fleet: backing up again with 429 on 10 % of the calls');
    await host.call({ cmd: 'random', probability: 0.1, seed: 7 });
    const faulty = await runChild<BackupRun>({
      script: backupScript,
      args: [config, setup.softwareImageId, setup.startupImageId, '0'],
      timeoutMs: 900_000,
      verbose: opts.verbose,
    });
    const faultyStats = await host.call<HostStats>({ cmd: 'stopRandom' });
    const baseline = await runChild<{ peakRssMiB: number }>({ script: baselineScript });

    const opMs = median(clean.probeMs);
    const waves = Math.ceil(guests / clean.concurrency);
    const ideal = waves * opMs;
    const row = (name: string, r: BackupRun, s: HostStats): string[] => [
      name,
      num(r.guests),
      `${r.concurrency} (peak ${r.peakConcurrency})`,
      ms(r.fleetMs),
      ratio(r.fleetMs / ideal),
      num(r.fleetCalls),
      num(s.faultsInjected),
      num(r.failures),
      num(r.cpuMs / r.guests, 1),
      num(r.peakRssMiB),
    ];
    const targets: Target[] = [];
    const okTime = clean.fleetMs / ideal <= 1.2;
    targets.push({
      name: 'fleet backup within 1.2x of ceil(N / concurrency) x operation time',
      met: okTime,
      measured: ratio(clean.fleetMs / ideal),
      ...(okTime
        ? {}
        : {
            why:
              `ideal ${ms(ideal)} (${waves} x ${ms(opMs)}), measured ${ms(clean.fleetMs)} (${ms((clean.fleetMs / guests) * clean.concurrency)} per backup at 8 in flight); ` +
              `snapshot waits by polls needed: alone ${pollText(clean.probePolls)}, in the fleet ${pollText(clean.fleetPolls)}`,
          }),
    });
    const rssOk = clean.peakRssMiB < 200 && faulty.peakRssMiB < 200;
    targets.push({
      name: 'fleet backup peak RSS under 200 MB',
      met: rssOk,
      measured: `${num(Math.max(clean.peakRssMiB, faulty.peakRssMiB))} MiB`,
      ...(rssOk
        ? {}
        : {
            why: `the process with only the library loaded peaks at ${num(baseline.peakRssMiB)} MiB; V8 heap peaked at ${num(Math.max(clean.memory.heapUsedMiB, faulty.memory.heapUsedMiB))} MiB used of ${num(Math.max(clean.memory.heapTotalMiB, faulty.memory.heapTotalMiB))} MiB`,
          }),
    });
    targets.push({
      name: 'fleet backup: zero failures',
      met: clean.failures === 0,
      measured: String(clean.failures),
      ...(clean.failures ? { why: clean.firstFailure ?? '' } : {}),
    });
    targets.push({
      name: 'fleet backup with 429 on 10 % of calls: zero failures',
      met: faulty.failures === 0,
      measured: String(faulty.failures),
      ...(faulty.failures ? { why: faulty.firstFailure ?? '' } : {}),
    });

    const body = [
      `${num(guests)} guests on the emulator (in its own process), every transition taking ${FLEET_DELAY_MS} ms, page size 1,000 (a real cloud's default ` +
        '`max_limit`). One `device.backupFleet()` with the default policy (backup concurrency 8, default polling), in a fresh process that lists the guests itself. ' +
        `Operation time = the median of ${probes} single-guest backups run alone just before, in the same process after one warm-up backup: ${ms(opMs)} ` +
        `(${num(median(clean.probeCalls))} API calls each). Ideal = ceil(${num(guests)} / ${clean.concurrency}) x ${ms(opMs)} = ${ms(ideal)}.`,
      '',
      table(
        [
          'run',
          'guests',
          'concurrency',
          'total time',
          'vs ideal',
          'API calls',
          '429s injected',
          'failures',
          'CPU ms/guest',
          'peak RSS MiB',
        ],
        [row('clean', clean, cleanStats), row('429 on 10 % of calls', faulty, faultyStats)],
      ),
      '',
      `Peak RSS is the device process's, ${compiled ? 'compiled and run on plain node (as in production; under tsx add about 40 MiB)' : 'run under tsx'}; ` +
        `with only the library loaded the same process peaks at ${num(baseline.peakRssMiB)} MiB. V8 heap peak (used / total): ` +
        `clean ${num(clean.memory.heapUsedMiB)} / ${num(clean.memory.heapTotalMiB)} MiB, 429 run ${num(faulty.memory.heapUsedMiB)} / ${num(faulty.memory.heapTotalMiB)} MiB. ` +
        `The emulator's own process peaked at ${num(faultyStats.peakRssMiB)} MiB. ` +
        `Listing the ${num(clean.listed)} guests, which \`backupFleet()\` does first, took ${ms(clean.listMs)} on its own. ` +
        `Setup (not measured): ${ms(setup.setupMs)} to create the guests. ` +
        `Snapshot waits by the number of polls they needed (default polling: first poll after 100 ms, then x1.5 with ±20 % jitter, so polls land near 100, 250, 475, 810 ms): ` +
        `single-guest backups ${pollText(clean.probePolls)}; clean fleet ${pollText(clean.fleetPolls)}; 429 run ${pollText(faulty.fleetPolls)}.`,
    ].join('\n');
    return {
      id: 'fleet',
      title: '3. Fleet backup',
      body,
      targets,
      raw: { setup, clean, faulty, cleanStats, faultyStats, opMs, ideal, baseline },
    };
  } finally {
    await host.stop();
  }
}
