import { describe, expect, it } from '@jest/globals';
import { cli } from './helpers.js';

describe('dataswap demo', () => {
  it('walks the design on the emulator and prints the summary as JSON, nothing left behind', async () => {
    const r = await cli(['demo', '--fast', '--json']);
    expect(r.code).toBe(0);
    const summary = r.json<{ resources: { leftTotal: number }; swap: { rerun: unknown[] }; olderWay: { rerun: unknown[] } }>();
    expect(summary.resources.leftTotal).toBe(0);
    expect(summary.swap.rerun).toEqual([]);
    expect(summary.olderWay.rerun.length).toBeGreaterThan(0);
    expect(r.stderr).toContain('[10/10]');
  });
});
