import { describe, expect, it } from '@jest/globals';
import { AbortedError, NotFoundError, ResourceFailedError, WaitTimeoutError } from '../../src/core/errors.js';
import { pollDelay, waitFor, waitForDeletion, type WaitProgress } from '../../src/core/waiter.js';

type Res = { status: string; fault?: string };
const fast = { intervalMs: 1, maxIntervalMs: 5, jitter: 0 };

function sequence(...statuses: Array<string | Error>): () => Promise<Res> {
  let i = 0;
  return async () => {
    const next = statuses[Math.min(i++, statuses.length - 1)]!;
    if (next instanceof Error) throw next;
    return { status: next, fault: 'disk full' };
  };
}

const volumeWait = {
  resource: 'volume v1',
  status: (r: Res) => r.status,
  until: (r: Res) => r.status === 'available',
  failWhen: (r: Res) => r.status.startsWith('error'),
  fault: (r: Res) => r.fault,
};

describe('waitFor', () => {
  it('resolves with the resource once the status is reached, reporting progress', async () => {
    const progress: WaitProgress[] = [];
    const r = await waitFor(sequence('creating', 'creating', 'available'), {
      ...volumeWait,
      ...fast,
      onProgress: (p) => progress.push(p),
    });
    expect(r.status).toBe('available');
    expect(progress.map((p) => p.status)).toEqual(['creating', 'creating', 'available']);
    expect(progress.map((p) => p.attempt)).toEqual([1, 2, 3]);
  });

  it('fails at once on a failure state, with the fault', async () => {
    let reads = 0;
    const read = sequence('creating', 'error', 'available');
    const err = await waitFor(async () => (reads++, read()), { ...volumeWait, ...fast }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceFailedError);
    expect((err as ResourceFailedError).status).toBe('error');
    expect((err as ResourceFailedError).message).toContain('disk full');
    expect(reads).toBe(2);
  });

  it('times out naming the last status seen', async () => {
    const err = await waitFor(sequence('attaching'), { ...volumeWait, ...fast, timeoutMs: 40 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('attaching');
    expect((err as WaitTimeoutError).message).toContain('last status: attaching');
  });

  it('stops when the signal fires', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const err = await waitFor(sequence('creating'), { ...volumeWait, intervalMs: 5, signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
  });

  it('passes a read error through instead of swallowing it', async () => {
    const boom = new Error('boom');
    await expect(waitFor(sequence('creating', boom), { ...volumeWait, ...fast })).rejects.toBe(boom);
  });

  it('backs off from an early first poll to the cap, with bounded jitter', () => {
    const opts = { intervalMs: 100, maxIntervalMs: 1000, backoff: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5].map((a) => pollDelay(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const lo = pollDelay(0, { ...opts, jitter: 0.2 }, () => 0);
    const hi = pollDelay(0, { ...opts, jitter: 0.2 }, () => 0.999999);
    expect(lo).toBe(80);
    expect(hi).toBe(120);
  });
});

describe('waitForDeletion', () => {
  const notFound = new NotFoundError({ service: 'volume', method: 'GET', url: 'u', status: 404 });

  it('resolves when the resource answers 404', async () => {
    await expect(waitForDeletion(sequence('deleting', 'deleting', notFound), { ...volumeWait, ...fast })).resolves.toBeUndefined();
  });

  it('fails on error_deleting instead of waiting for ever', async () => {
    const err = await waitForDeletion(sequence('deleting', 'error_deleting'), { ...volumeWait, ...fast }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceFailedError);
  });

  it('times out when the resource never goes', async () => {
    const err = await waitForDeletion(sequence('deleting'), { ...volumeWait, ...fast, timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
  });
});
