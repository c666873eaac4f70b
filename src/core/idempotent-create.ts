import { ConnectionError, OpenStackError, RequestTimeoutError } from './errors.js';
import { sleep } from './sleep.js';

/**
 * Creation that survives a lost answer. A create POST is never retried blindly: when it fails
 * without a clear "no" (no answer, a timeout, a gateway error, 503, 429), `find` looks for what the
 * first try may have made (by a client token or request label the caller put on it); only when
 * nothing is found is the create sent again.
 */
export async function createIdempotently<T>(opts: {
  create: () => Promise<T>;
  find: () => Promise<T | undefined>;
  /** Further creates after the first; default 8 (a fleet under a rate limit needs several). */
  retries?: number;
  /** First backoff, ms; doubles. Default 500. */
  delayMs?: number;
  signal?: AbortSignal | undefined;
}): Promise<T> {
  const retries = opts.retries ?? 8;
  let delay = opts.delayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await opts.create();
    } catch (err) {
      if (!isAmbiguousFailure(err) || attempt >= retries) throw err;
      const wait = err instanceof OpenStackError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : delay;
      await sleep(Math.min(wait, 30_000), opts.signal, 'create retry');
      delay *= 2;
      const found = await opts.find();
      if (found !== undefined) return found;
    }
  }
}

/** A failure after which the create may or may not have happened, or that says "try again". */
export function isAmbiguousFailure(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof RequestTimeoutError) return true;
  return err instanceof OpenStackError && [429, 502, 503, 504].includes(err.status);
}
