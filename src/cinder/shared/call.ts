import type { CallOptions } from '../../core/service-client.js';

/** The per-call options a request passes on, and nothing else a caller's object may carry. */
export const call = (opts: CallOptions): CallOptions => ({ signal: opts.signal, timeoutMs: opts.timeoutMs });
