/**
 * The small ports the agent's parts share — time, operator notices, the boot id — with the defaults
 * a daemon uses (logging uses the library's {@link Logger}). Tests pass fakes, or use jest's fake
 * timers, which `systemClock` follows.
 */
import { readFile } from 'node:fs/promises';
import { AbortedError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Time and timers, injectable so tests control them. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The longest delay a Node timer holds; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `Date.now` and the global timers (which jest's fake timers replace); delays beyond 24.8 days are chained. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    let handle: ReturnType<typeof setTimeout>;
    const arm = (left: number) => {
      handle = setTimeout(
        () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()),
        Math.min(left, MAX_TIMER_MS),
      );
    };
    arm(ms);
    return () => clearTimeout(handle);
  },
};

/**
 * Resolves after `ms` on `clock`.
 * @throws {AbortedError} when `signal` fires first.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('sleep'));
    const onAbort = () => {
      cancel();
      reject(new AbortedError('sleep'));
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Something the operator must see. `handover`: the agent stopped escalating and waits for an operator reset. */
export interface OperatorNotice {
  reason: string;
  handover: boolean;
  at: number;
}

/** Tells the operator (pager, SNMP trap, ticket…). */
export interface Notifier {
  notify(notice: OperatorNotice): Promise<void>;
}

/** A notifier that only logs, at `error`; the default when nothing else is wired. */
export function createLogNotifier(logger: Logger): Notifier {
  return {
    notify: async (notice) =>
      logger.error({ handover: notice.handover }, `operator notice: ${notice.reason}`),
  };
}

/** Reads the current boot id; it changes on every boot, which is how the agent tells a reboot from a crash. */
export type BootIdReader = () => Promise<string>;

/** Linux's boot id from `/proc/sys/kernel/random/boot_id`. */
export const readLinuxBootId: BootIdReader = async () =>
  (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
