/**
 * Part 4, recovery time: the data replacement restart (swap the data volume inside the running VM)
 * against deleting the VM and re-creating it from a whole-VM snapshot, on the emulator or on the
 * loopback stack.
 */
import type { EmulatorCloudConfig, EmulatorDelays } from '../../src/emulator/index.js';
import { runChild, startChild } from '../lib/child.js';
import type { PartOptions, PartReport, Target } from '../lib/report.js';
import { STACK_CLOUD } from '../lib/stack.js';
import { median } from '../lib/stats.js';
import { ms, num, ratio, table } from '../lib/table.js';

interface Measured {
  ms: number;
  calls: number;
}
interface Run {
  run: number;
  dataBackup: Measured;
  vmBackup?: Measured;
  vmBackupError?: string;
  floorBuild: Measured;
  floorDetach: Measured;
  floorAttach: Measured;
  dsBuild: Measured;
  dsSwap: Measured;
  dsConfirm: Measured;
  rebuild?: { delete: Measured; boot?: Measured; error?: string };
}
interface Result {
  target: string;
  floorPollMs: number;
  stagesBeforeDataSwap: { stages: string[]; attempts: number };
  runs: Run[];
}

/**
 * Emulator delays set to the loopback stack's step times (test/openstack's notes: boot from volume
 * 4–5.5 s, volume from snapshot 0.45 s, detach 0.4 s, attach 0.45 s, snapshot 0.1–0.4 s, server
 * delete 0.5–1.1 s), so the emulator run has the stack's proportions.
 */
export const STACK_LIKE_DELAYS: Partial<EmulatorDelays> = {
  serverBuild: 4500,
  serverDelete: 800,
  serverImage: 500,
  volumeCreate: 450,
  volumeDownload: 500,
  volumeDelete: 300,
  attach: 450,
  detach: 400,
  snapshotCreate: 250,
  snapshotDelete: 250,
  imageUpload: 100,
};

export async function runRecovery(opts: PartOptions & { target: 'emulator' | 'stack' }): Promise<PartReport> {
  const runs = opts.quick ? 1 : 3;
  let result: Result;
  if (opts.target === 'stack') {
    opts.log(`recovery (stack): ${runs} runs`);
    result = await runChild<Result>({
      script: 'recovery/measure.ts',
      args: ['stack', STACK_CLOUD, String(runs), '100'],
      timeoutMs: 1_200_000,
      verbose: opts.verbose,
    });
  } else {
    const host = await startChild<{ cloudConfig: EmulatorCloudConfig }>({
      script: 'lib/emulator-host.ts',
      args: [JSON.stringify({ delays: STACK_LIKE_DELAYS })],
      ipc: true,
      verbose: opts.verbose,
    });
    try {
      opts.log(`recovery (emulator): ${runs} runs`);
      result = await runChild<Result>({
        script: 'recovery/measure.ts',
        args: ['emulator', JSON.stringify(host.info.cloudConfig), String(runs), '100'],
        timeoutMs: 600_000,
        verbose: opts.verbose,
      });
    } finally {
      await host.stop();
    }
  }
  return report(result, opts.target);
}

function report(r: Result, target: 'emulator' | 'stack'): PartReport {
  const m = (f: (x: Run) => number | undefined): number =>
    median(r.runs.map(f).filter((x): x is number => x !== undefined));
  const floorSwap = m((x) => x.floorDetach.ms + x.floorAttach.ms);
  const floorAll = m((x) => x.floorBuild.ms + x.floorDetach.ms + x.floorAttach.ms);
  const dsSwap = m((x) => x.dsSwap.ms);
  const dsAll = m((x) => x.dsBuild.ms + x.dsSwap.ms + x.dsConfirm.ms);
  const dsAllCalls = m((x) => x.dsBuild.calls + x.dsSwap.calls + x.dsConfirm.calls);
  const rebuilt = r.runs.filter((x) => x.rebuild?.boot);
  const rebuildMs = rebuilt.length
    ? median(rebuilt.map((x) => (x.rebuild?.delete.ms ?? 0) + (x.rebuild?.boot?.ms ?? 0)))
    : undefined;
  const rebuildCalls = rebuilt.length
    ? median(rebuilt.map((x) => (x.rebuild?.delete.calls ?? 0) + (x.rebuild?.boot?.calls ?? 0)))
    : undefined;
  const failure = r.runs.find((x) => x.vmBackupError ?? x.rebuild?.error);
  const why = failure
    ? failure.vmBackupError
      ? `whole-VM snapshot failed: ${failure.vmBackupError}`
      : `boot from the whole-VM snapshot failed: ${failure.rebuild?.error}`
    : '';
  const s = r.stagesBeforeDataSwap;
  const reRun = `${s.stages.length} stages, ${s.attempts} attempts (${s.stages.join(', ')})`;

  const approaches = table(
    ['approach', 'API calls', 'wall time', 'stages re-run after the restore'],
    [
      [
        'data replacement restart (dataswap): volume from the latest backup, swap inside the running VM, confirm',
        num(dsAllCalls),
        ms(dsAll),
        '0: the VM, its boot volume and the ladder state stay',
      ],
      [
        '  of which the swap (`swapDataVolume`: detach, attach, bookkeeping)',
        num(m((x) => x.dsSwap.calls)),
        ms(dsSwap),
        '',
      ],
      rebuildMs === undefined
        ? [
            'comparative: delete the VM, re-create it from a whole-VM snapshot',
            '—',
            '—',
            `not possible on this ${target}: ${why}`,
          ]
        : [
            'comparative: delete the VM (wait 404), boot a new one from the whole-VM snapshot (wait ACTIVE)',
            num(rebuildCalls),
            ms(rebuildMs),
            `${reRun}: the boot volume, where the ladder state lives, is back at snapshot time`,
          ],
    ],
  );
  const floors = table(
    ['step', `floor (${r.floorPollMs} ms polls)`, 'floor calls', 'dataswap', 'dataswap calls', 'vs floor'],
    [
      [
        'volume from the latest backup',
        ms(m((x) => x.floorBuild.ms)),
        num(m((x) => x.floorBuild.calls)),
        ms(m((x) => x.dsBuild.ms)),
        num(m((x) => x.dsBuild.calls)),
        ratio(m((x) => x.dsBuild.ms) / m((x) => x.floorBuild.ms)),
      ],
      [
        'detach + wait `available`',
        ms(m((x) => x.floorDetach.ms)),
        num(m((x) => x.floorDetach.calls)),
        '',
        '',
        '',
      ],
      [
        'attach + wait `in-use`',
        ms(m((x) => x.floorAttach.ms)),
        num(m((x) => x.floorAttach.calls)),
        '',
        '',
        '',
      ],
      [
        'swap = detach + attach',
        ms(floorSwap),
        num(m((x) => x.floorDetach.calls + x.floorAttach.calls)),
        ms(dsSwap),
        num(m((x) => x.dsSwap.calls)),
        ratio(dsSwap / floorSwap),
      ],
      [
        'confirm (release the old volume)',
        '—',
        '—',
        ms(m((x) => x.dsConfirm.ms)),
        num(m((x) => x.dsConfirm.calls)),
        '',
      ],
      [
        'whole data replacement',
        ms(floorAll),
        num(m((x) => x.floorBuild.calls + x.floorDetach.calls + x.floorAttach.calls)),
        ms(dsAll),
        num(dsAllCalls),
        ratio(dsAll / floorAll),
      ],
    ],
  );
  const backups = table(
    ['backup kept by the approach', 'API calls', 'wall time'],
    [
      [
        'data snapshot (`backupDataVolume`, with retention)',
        num(m((x) => x.dataBackup.calls)),
        ms(m((x) => x.dataBackup.ms)),
      ],
      r.runs.some((x) => x.vmBackup)
        ? [
            'whole-VM snapshot (`createImage`, wait image `active`)',
            num(m((x) => x.vmBackup?.calls)),
            ms(m((x) => x.vmBackup?.ms)),
          ]
        : ['whole-VM snapshot', '—', `not possible: ${why}`],
    ],
  );
  const ok = dsSwap / floorSwap <= 1.15;
  const targets: Target[] = [
    {
      name: `recovery (${target}): swap within 1.15x of the sum of its steps' floors`,
      met: ok,
      measured: ratio(dsSwap / floorSwap),
      ...(ok
        ? {}
        : {
            why: `swap ${ms(dsSwap)} (${num(m((x) => x.dsSwap.calls))} calls) vs floors ${ms(floorSwap)} (${num(m((x) => x.floorDetach.calls + x.floorAttach.calls))} calls)`,
          }),
    },
  ];
  if (rebuildMs === undefined)
    targets.push({
      name: `recovery (${target}): comparative approach measured`,
      met: false,
      measured: 'not possible',
      why,
    });

  const where =
    target === 'stack'
      ? 'the loopback stack'
      : "the emulator (in its own process) with transition delays set to the loopback stack's step times (boot 4.5 s, volume from snapshot 0.45 s, detach 0.4 s, attach 0.45 s, server delete 0.8 s)";
  const body = [
    `On ${where}; ${r.runs.length} run${r.runs.length > 1 ? 's' : ''}, medians. Each run makes three guests alike (boot volume from the software image, data volume from the startup image) with a ` +
      'management device: one for the floors, one for dataswap, one for the comparative approach. Every wait of dataswap and of the comparative approach uses ' +
      `the library's default polling; the floors poll every ${r.floorPollMs} ms. API calls are counted at the transport. ` +
      '"Stages re-run" follows from the default escalation ladder (`planLadder(DEFAULT_STAGES)`): the data replacement is stage 4, so a guest whose boot volume ' +
      'is rolled back to the snapshot forgets that stages 1–3 were tried and runs them again before it gets back to a data restore.',
    '',
    approaches,
    '',
    'The swap against the floors of its steps:',
    '',
    floors,
    '',
    'The backup each approach needs beforehand:',
    '',
    backups,
  ].join('\n');
  return {
    id: `recovery-${target}`,
    title: `4. Recovery time (${target === 'stack' ? 'loopback stack' : 'emulator'})`,
    body,
    targets,
    raw: r,
  };
}
