/**
 * The demo end to end on the embedded emulator with short delays: the facts its summary states are
 * what the library's own code did (the journal is written by the stage executors, the swaps come from
 * the management device's events, the resources from the emulator's state).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { runDemo, type DemoSummary } from '../../src/demo/index.js';

let summary: DemoSummary;
const lines: string[] = [];

beforeAll(async () => {
  summary = await runDemo({ fast: true, out: (line) => lines.push(line) });
}, 30_000);

describe('runDemo on the emulator', () => {
  it('prints every step with its time, then the summary table', () => {
    for (let n = 1; n <= 10; n++) {
      expect(lines.some((l) => new RegExp(`^\\[${n}/10\\] .* \\.\\.\\. \\d+ ms$`).test(l))).toBe(true);
    }
    expect(lines.some((l) => l.includes('steps re-run'))).toBe(true);
    expect(lines.some((l) => /left after clean-up\s+0\s+0\s+0\s+0$/.test(l))).toBe(true);
  });

  it('data volume swap: the ladder climbed to the swap from the latest backup without re-running a stage', () => {
    const a = summary.swap;
    expect(a.ran).toBe(true);
    expect(a.rerun).toEqual({ attempts: 0, stages: [] });
    expect(a.incidents[0]?.stages).toEqual([
      'restart-app#1',
      'restart-app#2',
      'restart-app#3',
      'restart-middleware#1',
      'restart-middleware#2',
      'reboot#1',
      'data-swap:latest#1',
    ]);
    // The second strike goes on to the next stage: the ladder remembered its escalation.
    expect(a.incidents[1]?.stages).toEqual(['data-swap:startup#1']);
  });

  it('the ladder state survived the reboot: the stage after the reboot was the data swap, not a restart', () => {
    expect(summary.swap.stateSurvivedReboot).toBe(true);
    expect(summary.swap.stageAfterReboot).toBe('data-swap:latest');
    const afterReboot = summary.journal.filter((r) => r.guest === 'A' && r.boot === 2);
    expect(afterReboot[0]?.stage).toBe('data-swap:latest');
  });

  it('replaced the data volume inside the running VM with one built from the latest backup; the guest recovered', () => {
    const [first, second] = summary.swap.swaps;
    expect(first).toMatchObject({
      incident: 1,
      stage: 'data-swap:latest',
      source: 'the latest backup',
      generation: 2,
      fromLatestBackup: true,
      sameServer: true,
    });
    expect(first?.snapshotId).toBeDefined();
    expect(first?.newVolumeId).not.toBe(first?.oldVolumeId);
    expect(second).toMatchObject({
      incident: 2,
      stage: 'data-swap:startup',
      source: 'the startup image',
      sameServer: true,
    });
    expect(summary.swap.servers).toHaveLength(1);
    expect(summary.swap.bootVolumes).toHaveLength(1);
    expect(summary.swap.swapsInRunningVm).toBe(2);
    expect(summary.swap.previousDataKeptUntilHealthy).toBe(true);
    expect(summary.swap.recovered).toBe(true);
    expect(summary.swap.incidents.every((i) => i.healthyAfter)).toBe(true);
    expect(summary.swap.incidents[1]?.badRecordRemains).toBe(false);
  });

  it("older way: the re-created VM came back with the snapshot's ladder state and re-ran stages", () => {
    const b = summary.olderWay;
    expect(b.ran).toBe(true);
    expect(b.stateRolledBack).toBe(true);
    expect(b.rerun.attempts).toBeGreaterThanOrEqual(1);
    expect(b.rerun.stages).toContain('restart-app');
    expect(b.incidents[1]?.stages[0]).toBe('restart-app#1');
    expect(b.vmRecreations).toBe(2);
    expect(b.servers).toHaveLength(3);
    expect(b.bootVolumes).toHaveLength(3);
    expect(b.swapsInRunningVm).toBe(0);
    expect(b.incidents.at(-1)?.badRecordRemains).toBe(true);
  });

  it('counted API calls and time for both approaches', () => {
    for (const x of [summary.swap, summary.olderWay]) {
      expect(x.recovery.apiCalls).toBeGreaterThan(0);
      expect(x.recovery.timeMs).toBeGreaterThan(0);
      expect(x.backups.apiCalls).toBeGreaterThan(0);
      expect(x.backups.generations).toBe(2);
    }
    // The swap talks to Cinder and Nova's attachment API; the older way deletes and creates servers.
    expect(summary.swap.incidents[0]?.apiCallsByOperation['nova.attach']).toBe(1);
    expect(summary.olderWay.incidents[0]?.apiCallsByOperation['nova.server.create']).toBe(1);
  });

  it('left no resources behind', () => {
    expect(summary.resources.left).toEqual({ servers: 0, volumes: 0, snapshots: 0, images: 0 });
    expect(summary.resources.leftTotal).toBe(0);
    expect(summary.resources.created.servers).toBe(4);
    expect(summary.resources.created.images).toBe(4);
  });
});

describe('runDemo options', () => {
  it('--json prints the summary as JSON and nothing else', async () => {
    const out: string[] = [];
    const walk: string[] = [];
    const s = await runDemo({ fast: true, json: true, out: (l) => out.push(l), log: (l) => walk.push(l) });
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0] ?? '')).toMatchObject({
      mode: 'fast',
      swap: { rerun: { attempts: 0 } },
      resources: { leftTotal: 0 },
    });
    expect(s.target.kind).toBe('emulator');
    expect(walk.some((l) => l.startsWith('[10/10]'))).toBe(true);
  }, 30_000);

  it('cleans up when aborted in the middle', async () => {
    const controller = new AbortController();
    const walk: string[] = [];
    await expect(
      runDemo({
        fast: true,
        signal: controller.signal,
        out: (l) => {
          walk.push(l);
          if (l.startsWith('[5/10]') && l.endsWith('...')) controller.abort();
        },
      }),
    ).rejects.toThrow();
    expect(walk).toContain('clean-up after the failure:');
    expect(walk.some((l) => l.trim() === 'left: 0 servers, 0 volumes, 0 snapshots, 0 images')).toBe(true);
  }, 30_000);
});
