/**
 * Progress of long waits on stderr: one line each time a resource's status changes (the waiters
 * report every poll; repeating an unchanged status would only be noise). Shown when stderr is a
 * terminal or `--progress` was given, so scripts reading stderr stay quiet by default.
 */
import type { WaitProgress } from '../core/waiter.js';
import type { OutputStream } from './io.js';

export interface Progress {
  readonly enabled: boolean;
  /** For the management device's `onProgress`. */
  onWait(p: WaitProgress): void;
  /** A step of the command, e.g. `connecting to cloud devstack`. */
  step(message: string): void;
}

export function createProgress(
  stderr: OutputStream,
  enabled: boolean,
  now: () => number = Date.now,
): Progress {
  const last = new Map<string, string | undefined>();
  const started = now();
  const stamp = (): string => `${((now() - started) / 1000).toFixed(1).padStart(5)}s`;
  return {
    enabled,
    onWait(p) {
      if (!enabled) return;
      if (last.has(p.resource) && last.get(p.resource) === p.status) return;
      last.set(p.resource, p.status);
      stderr.write(`${stamp()}  ${p.resource}: ${p.status ?? '(no status yet)'}\n`);
    },
    step(message) {
      if (enabled) stderr.write(`${stamp()}  ${message}\n`);
    },
  };
}
