import { describe, expect, it } from '@jest/globals';
import { cli } from './helpers.js';

describe('dataswap demo', () => {
  it('walks the design on the emulator and prints the summary as JSON, nothing left behind', async () => {
    const r = await cli(['demo', '--fast', '--json']);
    expect(r.code).toBe(0);
    const summary = r.json<{ resources: { leftTotal: number }; swap: { rerun: { attempts: number } }; olderWay: { rerun: { attempts: number } } }>();
    expect(summary.resources.leftTotal).toBe(0);
    expect(summary.swap.rerun.attempts).toBe(0);
    expect(summary.olderWay.rerun.attempts).toBeGreaterThan(0);
    expect(r.stderr).toContain('[10/10]');
  });
});
