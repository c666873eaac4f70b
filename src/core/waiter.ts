import { AbortedError, NotFoundError, ResourceFailedError, WaitTimeoutError } from './errors.js';
import { sleep } from './sleep.js';

/** What a waiter reports after each poll. */
export interface WaitProgress {
  resource: string;
  status: string | undefined;
  attempt: number;
  elapsedMs: number;
}

/** Adaptive polling: an early first poll, then backoff with jitter up to a cap. */
export interface PollOptions {
  /** Give up after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Delay before the first poll, ms. Default 100. */
  intervalMs?: number;
  /** Longest delay between polls, ms. Default 1,000. */
  maxIntervalMs?: number;
  /** Growth of the delay per poll. Default 1.5. */
  backoff?: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: WaitProgress) => void) | undefined;
}

export interface WaitOptions<T> extends PollOptions {
  /** Names the resource in errors and progress, e.g. `volume 5c1…`. */
  resource: string;
  /** The status to report and to name on timeout. */
  status: (value: T) => string | undefined;
  /** Success. */
  until: (value: T) => boolean;
  /** A failure state: ends the wait at once with {@link ResourceFailedError}. */
  failWhen?: ((value: T) => boolean) | undefined;
  /** The resource's own account of the failure (e.g. Nova's `fault.message`). */
  fault?: ((value: T) => string | undefined) | undefined;
}

export const defaultPoll = {
  timeoutMs: 600_000,
  intervalMs: 100,
  maxIntervalMs: 1_000,
  backoff: 1.5,
  jitter: 0.2,
} as const;

/** The delay before poll number `attempt` (0-based), with jitter. */
export function pollDelay(attempt: number, opts: PollOptions, random: () => number = Math.random): number {
  const first = opts.intervalMs ?? defaultPoll.intervalMs;
  const cap = opts.maxIntervalMs ?? defaultPoll.maxIntervalMs;
  const factor = opts.backoff ?? defaultPoll.backoff;
  const jitter = opts.jitter ?? defaultPoll.jitter;
  const base = Math.min(cap, first * factor ** attempt);
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/**
 * Polls `read` until `until` holds, a failure state shows, the deadline passes or `signal` fires.
 * Never turns a timeout or a failure into success.
 *
 * @throws {ResourceFailedError} when `failWhen` holds; {@link WaitTimeoutError} naming the last
 * status; {@link AbortedError}; any error `read` throws (already retried by the transport).
 */
export async function waitFor<T>(read: (signal?: AbortSignal) => Promise<T>, opts: WaitOptions<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? defaultPoll.timeoutMs;
  const started = Date.now();
  let lastStatus: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const remaining = timeoutMs - (Date.now() - started);
    if (remaining <= 0) throw new WaitTimeoutError(opts.resource, timeoutMs, lastStatus);
    await sleep(Math.min(pollDelay(attempt, opts), remaining), opts.signal, `wait for ${opts.resource}`);
    if (opts.signal?.aborted) throw new AbortedError(`wait for ${opts.resource}`);
    const value = await read(opts.signal);
    lastStatus = opts.status(value);
    opts.onProgress?.({ resource: opts.resource, status: lastStatus, attempt: attempt + 1, elapsedMs: Date.now() - started });
    if (opts.failWhen?.(value)) {
      throw new ResourceFailedError(opts.resource, lastStatus ?? 'a failure state', opts.fault?.(value));
    }
    if (opts.until(value)) return value;
  }
}

/**
 * Waits until `read` answers 404. A failure state seen on the way (e.g. `error_deleting`) ends the
 * wait at once.
 */
export async function waitForDeletion<T>(
  read: (signal?: AbortSignal) => Promise<T>,
  opts: Omit<WaitOptions<T>, 'until'>,
): Promise<void> {
  try {
    await waitFor(read, { ...opts, until: () => false });
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
}
