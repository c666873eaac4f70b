import { seededRandom } from './random.js';

/**
 * Which calls a fault applies to: an operation name (`'nova.attach'`, `'cinder.snapshot.create'`),
 * a glob over operation names (`'cinder.*'`, `'*'`), or a method and/or a path (a string the
 * request path must equal, or a RegExp it must match; paths start with the service prefix, e.g.
 * `/compute/v2.1/servers/…`).
 */
export type FaultMatch = string | { operation?: string; method?: string; path?: string | RegExp };

/** What an injected fault does. */
export type FaultAction =
  /** Answer with this status; the body defaults to the service's own error format. */
  | {
      kind: 'status';
      status: number;
      /** A JSON value, or a string sent as is. */
      body?: unknown;
      /** Sets `Retry-After` (seconds, or an HTTP date). */
      retryAfter?: number | string;
      headers?: Record<string, string>;
    }
  /** Answer nothing for `ms` milliseconds (then carry on normally), or never (until `close()`). */
  | { kind: 'hang'; ms?: number }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' };

/** A fault to inject into the next matching calls. */
export interface FaultRule {
  match: FaultMatch;
  action: FaultAction;
  /** How many matching calls it applies to (after `skip`). Default 1; `Infinity` for all. */
  times?: number;
  /** Let this many matching calls through first. Default 0. */
  skip?: number;
  /**
   * `before` (default): the call has no effect. `after`: the call is carried out, then its answer is
   * replaced (status), delayed (hang) or lost (reset) — a create whose response never arrives.
   */
  phase?: 'before' | 'after';
}

/** A fault rule in place; `remove()` takes it out early. */
export interface FaultHandle {
  /** Calls it still applies to. */
  readonly remaining: number;
  /** Calls it has applied to so far. */
  readonly hits: number;
  remove(): void;
}

/** Options of the probabilistic mode. */
export interface RandomFaultOptions {
  /** Chance per matching call, 0–1. */
  probability: number;
  /** Status to answer. Default 429. */
  status?: number;
  /** `Retry-After` value. Default 0 (with 429 or 503), none otherwise. */
  retryAfter?: number | string;
  /** Seed of the generator, for reproducible runs. Default 1. */
  seed?: number;
  /** Calls it applies to. Default: every call but Keystone's (`'*'` includes Keystone). */
  match?: FaultMatch;
}

/** Kinds of resource whose next transition can be made to fail. */
export type FailingResourceKind = 'server' | 'volume' | 'snapshot' | 'backup';

/** How a resource fails at its next transition. */
export interface ResourceFailure {
  /** The status it lands in instead; default `error` (`ERROR` for a server, `error_deleting` on delete). */
  status?: string;
  /** A server's `fault.message`, or a backup's `fail_reason`. */
  message?: string;
}

/** Fault injection, as `emu.faults`. */
export interface FaultController {
  /** Adds a rule; rules are tried in the order they were added. */
  add(rule: FaultRule): FaultHandle;
  /** The next `times` matching calls answer `status` (with the service's error body unless `body` is given). */
  failNext(
    match: FaultMatch,
    status: number,
    options?: { times?: number; body?: unknown; retryAfter?: number | string; headers?: Record<string, string>; phase?: 'before' | 'after' },
  ): FaultHandle;
  /** The next `times` matching calls get no answer for `ms` (or never, when `ms` is left out). */
  hangNext(match: FaultMatch, options?: { ms?: number; times?: number; phase?: 'before' | 'after' }): FaultHandle;
  /** The next `times` matching calls have their connection reset. */
  resetNext(match: FaultMatch, options?: { times?: number; phase?: 'before' | 'after' }): FaultHandle;
  /** Answers a seeded random share of the matching calls with an error (default 429, `Retry-After: 0`). Replaces any previous random mode. */
  random(options: RandomFaultOptions): void;
  /** Ends the random mode. */
  stopRandom(): void;
  /** The resource with this id fails at its next transition (creation, attach, detach, delete…). */
  failResource(id: string, failure?: ResourceFailure): void;
  /** Every resource of this kind created from now on fails at its first transition; `false` stops it. */
  failNew(kind: FailingResourceKind, enabled?: boolean, failure?: ResourceFailure): void;
  /** Removes every rule, the random mode and the pending resource failures. */
  clear(): void;
}

/** What the request pipeline needs to know about one call. */
export interface CallInfo {
  operation: string;
  method: string;
  path: string;
}

/** The decision for one call. */
export interface FaultDecision {
  action: FaultAction;
  phase: 'before' | 'after';
}

interface LiveRule {
  rule: FaultRule;
  skip: number;
  remaining: number;
  hits: number;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function matches(match: FaultMatch, call: CallInfo): boolean {
  if (typeof match === 'string') return match.includes('*') ? globToRegExp(match).test(call.operation) : match === call.operation;
  if (match.operation !== undefined && !matches(match.operation, call)) return false;
  if (match.method !== undefined && match.method.toUpperCase() !== call.method) return false;
  if (match.path !== undefined) {
    if (typeof match.path === 'string' ? match.path !== call.path : !match.path.test(call.path)) return false;
  }
  return true;
}

/** The fault engine: rules, random mode and resource failures. */
export class FaultEngine implements FaultController {
  private rules: LiveRule[] = [];
  private randomMode: { options: RandomFaultOptions; next: () => number } | undefined;
  private readonly failing = new Map<string, ResourceFailure>();
  private readonly failingNew = new Map<FailingResourceKind, ResourceFailure>();

  add(rule: FaultRule): FaultHandle {
    const times = rule.times ?? 1;
    if (!(times > 0)) throw new RangeError('times must be positive');
    const live: LiveRule = { rule, skip: rule.skip ?? 0, remaining: times, hits: 0 };
    this.rules.push(live);
    return {
      get remaining() {
        return live.remaining;
      },
      get hits() {
        return live.hits;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== live);
      },
    };
  }

  failNext(
    match: FaultMatch,
    status: number,
    options: { times?: number; body?: unknown; retryAfter?: number | string; headers?: Record<string, string>; phase?: 'before' | 'after' } = {},
  ): FaultHandle {
    const action: FaultAction = { kind: 'status', status };
    if (options.body !== undefined) action.body = options.body;
    if (options.retryAfter !== undefined) action.retryAfter = options.retryAfter;
    if (options.headers !== undefined) action.headers = options.headers;
    return this.add({ match, action, times: options.times, phase: options.phase });
  }

  hangNext(match: FaultMatch, options: { ms?: number; times?: number; phase?: 'before' | 'after' } = {}): FaultHandle {
    return this.add({ match, action: options.ms === undefined ? { kind: 'hang' } : { kind: 'hang', ms: options.ms }, times: options.times, phase: options.phase });
  }

  resetNext(match: FaultMatch, options: { times?: number; phase?: 'before' | 'after' } = {}): FaultHandle {
    return this.add({ match, action: { kind: 'reset' }, times: options.times, phase: options.phase });
  }

  random(options: RandomFaultOptions): void {
    if (!(options.probability >= 0 && options.probability <= 1)) throw new RangeError('probability must be within 0–1');
    this.randomMode = { options, next: seededRandom(options.seed ?? 1) };
  }

  stopRandom(): void {
    this.randomMode = undefined;
  }

  failResource(id: string, failure: ResourceFailure = {}): void {
    this.failing.set(id, failure);
  }

  failNew(kind: FailingResourceKind, enabled = true, failure: ResourceFailure = {}): void {
    if (enabled) this.failingNew.set(kind, failure);
    else this.failingNew.delete(kind);
  }

  clear(): void {
    this.rules = [];
    this.randomMode = undefined;
    this.failing.clear();
    this.failingNew.clear();
  }

  /** The fault to inject into this call, if any; consumes one use of the rule that applies. */
  decide(call: CallInfo): FaultDecision | undefined {
    for (const live of this.rules) {
      if (!matches(live.rule.match, call)) continue;
      if (live.skip > 0) {
        live.skip--;
        continue;
      }
      live.remaining--;
      live.hits++;
      if (live.remaining <= 0) this.rules = this.rules.filter((r) => r !== live);
      return { action: live.rule.action, phase: live.rule.phase ?? 'before' };
    }
    const mode = this.randomMode;
    if (mode) {
      const { options } = mode;
      const applies = options.match === undefined ? !call.operation.startsWith('keystone.') : matches(options.match, call);
      // Draw only for calls the mode applies to, so the sequence for a seed does not depend on
      // how many other calls were interleaved.
      if (applies && mode.next() < options.probability) {
        const status = options.status ?? 429;
        const action: FaultAction = { kind: 'status', status };
        const retryAfter = options.retryAfter ?? (status === 429 || status === 503 ? 0 : undefined);
        if (retryAfter !== undefined) action.retryAfter = retryAfter;
        return { action, phase: 'before' };
      }
    }
    return undefined;
  }

  /** Called when a resource is created: arms its failure when new ones of its kind must fail. */
  noteCreated(kind: FailingResourceKind, id: string): void {
    const failure = this.failingNew.get(kind);
    if (failure) this.failing.set(id, failure);
  }

  /** Whether the resource must fail at this transition; consumes the failure. */
  takeFailure(id: string): ResourceFailure | undefined {
    const f = this.failing.get(id);
    if (f) this.failing.delete(id);
    return f;
  }
}
