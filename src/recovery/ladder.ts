/**
 * The escalation ladder as a pure transition function: `transition(state, event, config)` returns the
 * next state and the effects to run, and does nothing itself — no I/O, no clock (time arrives in
 * `event.at`). The runner performs the effects and feeds their outcomes back as events.
 *
 * Crash safety lives here, not in the runner: every phase that has an irreversible effect in flight
 * (a reboot, a volume request, a swap, its rollback or confirmation) is a state of its own, persisted
 * before the effect starts, and `agent-restarted` resumes each one by checking what happened rather
 * than starting it again.
 */
import { LadderStateError } from './errors.js';

/** A stage the agent runs as a configured command. */
export type CommandStageKind = 'restart-app' | 'restart-middleware' | 'reboot';

/** Where a replacement data volume is built from. `generation` counts back from the latest backup (1 = the one before it). */
export type VolumeSource =
  { from: 'latest' } | { from: 'generation'; generation: number } | { from: 'startup' };

/** One configured stage. A `generation` data swap expands into one step per older generation, 1..`generations`. */
export type StageDefinition =
  | { kind: CommandStageKind; attempts: number; healthTimeoutMs: number }
  | { kind: 'data-swap'; source: 'latest' | 'startup'; attempts: number; healthTimeoutMs: number }
  | {
      kind: 'data-swap';
      source: 'generation';
      generations: number;
      attempts: number;
      healthTimeoutMs: number;
    }
  | { kind: 'handover' };

/** The ladder's configuration; the same value must be passed to every `transition` call. */
export interface LadderConfig {
  /** Narrowest first; the last one must be `handover`. */
  stages: readonly StageDefinition[];
  /** Healthy this long after a recovery, the ladder forgets its escalation and starts again at stage 1. */
  stablePeriodMs: number;
  /** Pause between health probes while a stage's health window is open. */
  probeIntervalMs: number;
  /** How long to wait for the agent to come back on a new boot after the reboot command succeeded. */
  rebootTimeoutMs: number;
}

/** The six stages of the design: app, middleware, OS, latest backup, startup image, operator. */
export const DEFAULT_STAGES: readonly StageDefinition[] = [
  { kind: 'restart-app', attempts: 3, healthTimeoutMs: 60_000 },
  { kind: 'restart-middleware', attempts: 2, healthTimeoutMs: 120_000 },
  { kind: 'reboot', attempts: 1, healthTimeoutMs: 300_000 },
  { kind: 'data-swap', source: 'latest', attempts: 1, healthTimeoutMs: 300_000 },
  { kind: 'data-swap', source: 'startup', attempts: 1, healthTimeoutMs: 300_000 },
  { kind: 'handover' },
];

/** The default ladder: {@link DEFAULT_STAGES}, 30 min stable period, 5 s probe interval, 10 min reboot wait. */
export const DEFAULT_LADDER_CONFIG: LadderConfig = {
  stages: DEFAULT_STAGES,
  stablePeriodMs: 30 * 60_000,
  probeIntervalMs: 5_000,
  rebootTimeoutMs: 10 * 60_000,
};

/** One rung of the ladder after expansion; the state's `step` indexes these. */
export type LadderStep =
  | { kind: CommandStageKind; attempts: number; healthTimeoutMs: number }
  | { kind: 'data-swap'; source: VolumeSource; attempts: number; healthTimeoutMs: number }
  | { kind: 'handover' };

/** Either it worked, or why not. */
export type Outcome = { ok: true } | { ok: false; reason: string };

/** Fields every state carries. */
export interface LadderStateBase {
  /** Random per ladder state file; prefixes every operation id so a recreated state never reuses an old key. */
  ladderId: string;
  /** Bumped on every reset, so the operation ids of a new escalation differ from the last one's. */
  epoch: number;
  /** The boot id the agent last started under. */
  bootId: string;
  /** {@link planFingerprint} of the steps `step` refers to. */
  plan: string;
}

/** The new data volume of a data-swap attempt, and the one it replaced (kept by management until confirmed). */
export interface SwapInPlay {
  operationId: string;
  volumeId: string;
  previousVolumeId?: string;
}

/** Healthy (or never faulted). The next fault runs `step` again if it has attempts left, else the next step. */
export interface WatchingState extends LadderStateBase {
  phase: 'watching';
  step: number;
  attemptsUsed: number;
  /** When the last recovery became healthy; absent at rest. */
  healthySince?: number;
}
/** A restart command is running. */
export interface RunningState extends LadderStateBase {
  phase: 'running';
  step: number;
  attempt: number;
}
/** The reboot command was (or is about to be) issued from boot `bootIdBefore`. */
export interface RebootingState extends LadderStateBase {
  phase: 'rebooting';
  step: number;
  attempt: number;
  bootIdBefore: string;
}
/** Management was (or is about to be) asked for a new data volume under `operationId`. */
export interface RequestingVolumeState extends LadderStateBase {
  phase: 'requesting-volume';
  step: number;
  attempt: number;
  operationId: string;
}
/** The data volume is being swapped for `volumeId` under `operationId`. */
export interface SwappingState extends LadderStateBase {
  phase: 'swapping';
  step: number;
  attempt: number;
  operationId: string;
  volumeId: string;
}
/** Waiting for the health probe to pass before `deadline`. */
export interface ProbingState extends LadderStateBase {
  phase: 'probing';
  step: number;
  attempt: number;
  deadline: number;
  lastFailure?: string;
  /** Present after a data swap: confirmed if healthy, rolled back if not. */
  swap?: SwapInPlay;
}
/** The old data volume is being put back after `reason`. */
export interface RollingBackState extends LadderStateBase {
  phase: 'rolling-back';
  step: number;
  attempt: number;
  swap: SwapInPlay;
  reason: string;
}
/** Healthy on the new data volume; management is told to keep it. */
export interface ConfirmingState extends LadderStateBase {
  phase: 'confirming';
  step: number;
  attempt: number;
  swap: SwapInPlay;
}
/** The operator has it; faults are logged and ignored until `operator-reset`. */
export interface HandedOverState extends LadderStateBase {
  phase: 'handed-over';
  since: number;
  reason: string;
  /** The hand-over notice was delivered; until then every restart sends it again. */
  notified: boolean;
}

/** Everything the ladder remembers, persisted after every change that matters. */
export type LadderState =
  | WatchingState
  | RunningState
  | RebootingState
  | RequestingVolumeState
  | SwappingState
  | ProbingState
  | RollingBackState
  | ConfirmingState
  | HandedOverState;

/** Where a data swap failed; before `attach` the old volume was never detached. */
export type SwapFailurePoint = 'stop' | 'unmount' | 'attach' | 'device' | 'mount' | 'start';

/** The outcome of a data volume request. */
export type VolumeOutcome = { ok: true; volumeId: string } | { ok: false; reason: string };

/** The outcome of swapping the new data volume in, up to the application's start. */
export type SwapOutcome =
  { ok: true; previousVolumeId?: string } | { ok: false; failedAt: SwapFailurePoint; reason: string };

/** After a restart, what management knows of a swap; `unknown` means it never received the request. */
export interface SwapCheck {
  status: 'done' | 'failed' | 'unknown';
  reason?: string;
}

/** What the ladder reacts to. `key`, `operationId` and `timerId` tie an outcome to the attempt that asked for it. */
export type LadderEvent =
  | { type: 'fault-detected'; at: number; reason: string }
  | { type: 'stage-done'; at: number; key: string; outcome: Outcome }
  | { type: 'health-ok'; at: number; key: string }
  | { type: 'health-failed'; at: number; key: string; reason: string }
  | { type: 'timer-fired'; at: number; timerId: string }
  | { type: 'agent-restarted'; at: number; bootId: string }
  | { type: 'volume-result'; at: number; operationId: string; outcome: VolumeOutcome }
  | { type: 'swap-result'; at: number; operationId: string; outcome: SwapOutcome }
  | ({ type: 'swap-checked'; at: number; operationId: string } & SwapCheck)
  | { type: 'confirm-result'; at: number; operationId: string; outcome: Outcome }
  | { type: 'rollback-result'; at: number; operationId: string; outcome: Outcome }
  | { type: 'operator-reset'; at: number }
  /** The hand-over notice reached the operator and management. */
  | { type: 'operator-notified'; at: number }
  /** The persisted state could not be read; the runner starts from a fresh state and sends this. */
  | { type: 'state-lost'; at: number; reason: string };

/** Log severity of a `log` effect. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the runner must do, in order. `persist` always comes before the irreversible effect it protects. */
export type LadderEffect =
  | { type: 'persist' }
  | { type: 'run-stage'; key: string; kind: CommandStageKind }
  | { type: 'probe-health'; key: string; timeoutMs: number }
  | { type: 'request-volume'; operationId: string; source: VolumeSource }
  /** `attached`: management already reports the swap done, so only the guest side (device, mount, start) is left. */
  | { type: 'swap'; operationId: string; volumeId: string; attached: boolean }
  | { type: 'check-swap'; operationId: string }
  | { type: 'confirm-swap'; operationId: string }
  | { type: 'rollback-swap'; operationId: string }
  /** With `handover`, the runner retries until delivered, then sends `operator-notified`. */
  | { type: 'notify-operator'; reason: string; handover: boolean }
  | { type: 'schedule-timer'; timerId: string; delayMs: number }
  | { type: 'cancel-timer'; timerId: string }
  | { type: 'log'; level: LogLevel; message: string };

/** The result of one transition. */
export interface Transition {
  state: LadderState;
  effects: LadderEffect[];
}

/**
 * Expands the configured stages into the steps the state indexes.
 * @throws {LadderStateError} when `handover` is missing, not last, or a count is below 1.
 */
export function planLadder(stages: readonly StageDefinition[]): LadderStep[] {
  const last = stages.at(-1);
  if (last?.kind !== 'handover' || stages.filter((s) => s.kind === 'handover').length !== 1) {
    throw new LadderStateError('the ladder must end with exactly one handover stage');
  }
  return stages.flatMap((stage): LadderStep[] => {
    if (stage.kind === 'handover') return [stage];
    if (stage.attempts < 1) throw new LadderStateError(`stage ${stage.kind} needs at least 1 attempt`);
    if (stage.kind !== 'data-swap') return [stage];
    const { attempts, healthTimeoutMs } = stage;
    if (stage.source !== 'generation')
      return [{ kind: 'data-swap', source: { from: stage.source }, attempts, healthTimeoutMs }];
    if (stage.generations < 1) throw new LadderStateError('a generation stage needs at least 1 generation');
    return Array.from({ length: stage.generations }, (_, i) => ({
      kind: 'data-swap' as const,
      source: { from: 'generation' as const, generation: i + 1 },
      attempts,
      healthTimeoutMs,
    }));
  });
}

/** A short name of a step for logs and status, e.g. `data-swap:generation-2`. */
export function describeStep(step: LadderStep): string {
  if (step.kind !== 'data-swap') return step.kind;
  const { source } = step;
  return `data-swap:${source.from === 'generation' ? `generation-${source.generation}` : source.from}`;
}

/** Identifies the step list, so a state saved under another ladder configuration is recognised. */
export function planFingerprint(stages: readonly StageDefinition[]): string {
  return planLadder(stages).map(describeStep).join(',');
}

/** A fresh ladder at rest. */
export function initialLadderState(input: {
  ladderId: string;
  bootId: string;
  stages: readonly StageDefinition[];
}): WatchingState {
  const { ladderId, bootId, stages } = input;
  return {
    phase: 'watching',
    ladderId,
    epoch: 0,
    bootId,
    plan: planFingerprint(stages),
    step: 0,
    attemptsUsed: 0,
  };
}

/** The key of one attempt; operation ids and timer ids derive from it, so a resumed attempt reuses them. */
export function attemptKey(state: LadderStateBase, step: number, attempt: number): string {
  return `${state.ladderId}:${state.epoch}:${step}:${attempt}`;
}

type AttemptState = Exclude<LadderState, WatchingState | HandedOverState>;

interface Context {
  plan: LadderStep[];
  config: LadderConfig;
  at: number;
}

const persist: LadderEffect = { type: 'persist' };
const log = (level: LogLevel, message: string): LadderEffect => ({ type: 'log', level, message });
const timerIds = (state: LadderStateBase, step: number, attempt: number) => {
  const key = attemptKey(state, step, attempt);
  return {
    health: `health:${key}`,
    reprobe: `reprobe:${key}`,
    reboot: `reboot:${key}`,
    stable: `stable:${key}`,
  };
};

function baseOf(state: LadderState): LadderStateBase {
  const { ladderId, epoch, bootId, plan } = state;
  return { ladderId, epoch, bootId, plan };
}

function stepAt(plan: LadderStep[], step: number): LadderStep {
  const found = plan[step];
  if (!found) throw new LadderStateError(`the ladder has no step ${step}`);
  return found;
}

function label(ctx: Context, step: number, attempt?: number): string {
  const s = stepAt(ctx.plan, step);
  const tries = attempt === undefined || s.kind === 'handover' ? '' : ` attempt ${attempt}/${s.attempts}`;
  return `stage ${step + 1} (${describeStep(s)})${tries}`;
}

/** A state change that must survive a crash: persist first, then the effects. */
function move(state: LadderState, ...effects: LadderEffect[]): Transition {
  return { state, effects: [persist, ...effects] };
}

function before(effects: LadderEffect[], t: Transition): Transition {
  return { state: t.state, effects: [...effects, ...t.effects] };
}

function ignore(state: LadderState, event: LadderEvent, why: string): Transition {
  return { state, effects: [log('debug', `ignored ${event.type} in ${state.phase}: ${why}`)] };
}

function atRest(base: LadderStateBase, epoch: number): WatchingState {
  return { ...base, phase: 'watching', epoch, step: 0, attemptsUsed: 0 };
}

function handOver(base: LadderStateBase, ctx: Context, reason: string): Transition {
  return move(
    { ...base, phase: 'handed-over', since: ctx.at, reason, notified: false },
    log('error', `handing over to the operator: ${reason}`),
    { type: 'notify-operator', reason, handover: true },
  );
}

function startAttempt(
  base: LadderStateBase,
  ctx: Context,
  step: number,
  attempt: number,
  why: string,
): Transition {
  const s = stepAt(ctx.plan, step);
  const key = attemptKey(base, step, attempt);
  const started = log('info', `${label(ctx, step, attempt)}: ${why}`);
  switch (s.kind) {
    case 'handover':
      return handOver(base, ctx, why);
    case 'reboot':
      return move({ ...base, phase: 'rebooting', step, attempt, bootIdBefore: base.bootId }, started, {
        type: 'run-stage',
        key,
        kind: 'reboot',
      });
    case 'data-swap': {
      const operationId = `${key}:volume`;
      return move({ ...base, phase: 'requesting-volume', step, attempt, operationId }, started, {
        type: 'request-volume',
        operationId,
        source: s.source,
      });
    }
    default:
      return move({ ...base, phase: 'running', step, attempt }, started, {
        type: 'run-stage',
        key,
        kind: s.kind,
      });
  }
}

/** The attempt failed: try the same step again while it has attempts left, else escalate. */
function failAttempt(state: AttemptState, ctx: Context, reason: string): Transition {
  const s = stepAt(ctx.plan, state.step);
  const retry = s.kind !== 'handover' && state.attempt < s.attempts;
  const [step, attempt] = retry ? [state.step, state.attempt + 1] : [state.step + 1, 1];
  const why = `${label(ctx, state.step, state.attempt)} failed: ${reason}`;
  return before([log('warn', why)], startAttempt(baseOf(state), ctx, step, attempt, why));
}

function startProbing(
  base: LadderStateBase,
  ctx: Context,
  step: number,
  attempt: number,
  swap: SwapInPlay | undefined,
): Transition {
  const s = stepAt(ctx.plan, step);
  if (s.kind === 'handover') throw new LadderStateError('the handover step has no health check');
  const state: ProbingState = {
    ...base,
    phase: 'probing',
    step,
    attempt,
    deadline: ctx.at + s.healthTimeoutMs,
  };
  if (swap) state.swap = swap;
  return move(
    state,
    { type: 'schedule-timer', timerId: timerIds(base, step, attempt).health, delayMs: s.healthTimeoutMs },
    { type: 'probe-health', key: attemptKey(base, step, attempt), timeoutMs: s.healthTimeoutMs },
  );
}

function stopProbing(state: ProbingState): LadderEffect[] {
  const ids = timerIds(state, state.step, state.attempt);
  return [
    { type: 'cancel-timer', timerId: ids.health },
    { type: 'cancel-timer', timerId: ids.reprobe },
  ];
}

function recovered(state: AttemptState, ctx: Context): Transition {
  const watching: WatchingState = {
    ...baseOf(state),
    phase: 'watching',
    step: state.step,
    attemptsUsed: state.attempt,
    healthySince: ctx.at,
  };
  return move(watching, log('info', `${label(ctx, state.step, state.attempt)} recovered the guest`), {
    type: 'schedule-timer',
    timerId: timerIds(state, state.step, state.attempt).stable,
    delayMs: ctx.config.stablePeriodMs,
  });
}

function rollBack(state: SwappingState | ProbingState, swap: SwapInPlay, reason: string): Transition {
  const { step, attempt } = state;
  return move(
    { ...baseOf(state), phase: 'rolling-back', step, attempt, swap, reason },
    log('warn', `rolling back data swap ${swap.operationId}: ${reason}`),
    { type: 'rollback-swap', operationId: swap.operationId },
  );
}

function resetLadder(state: WatchingState | HandedOverState, why: string): Transition {
  return move(atRest(baseOf(state), state.epoch + 1), log('info', `ladder reset to stage 1: ${why}`));
}

/**
 * Computes the ladder's next state and the effects to run for one event.
 * @throws {LadderStateError} when the state refers to a step the configuration does not have.
 * @example
 * const { state, effects } = transition(current, { type: 'fault-detected', at: Date.now(), reason: 'probe failed' }, DEFAULT_LADDER_CONFIG);
 */
export function transition(state: LadderState, event: LadderEvent, config: LadderConfig): Transition {
  const ctx: Context = { plan: planLadder(config.stages), config, at: event.at };
  switch (event.type) {
    case 'agent-restarted':
      return resume({ ...state, bootId: event.bootId }, ctx);
    case 'state-lost':
      return handOver(baseOf(state), ctx, `the ladder state was lost: ${event.reason}`);
    case 'operator-reset':
      if (state.phase === 'watching' || state.phase === 'handed-over')
        return resetLadder(state, 'operator reset');
      return {
        state,
        effects: [log('warn', `operator reset refused: a recovery is in flight (${state.phase})`)],
      };
    case 'fault-detected':
      if (state.phase === 'watching') return escalate(state, ctx, event.reason);
      if (state.phase === 'handed-over') {
        return {
          state,
          effects: [log('warn', `fault ignored, handed over to the operator: ${event.reason}`)],
        };
      }
      return ignore(state, event, 'a recovery is already in flight');
    default:
      return onPhaseEvent(state, event, ctx);
  }
}

function escalate(state: WatchingState, ctx: Context, reason: string): Transition {
  const s = stepAt(ctx.plan, state.step);
  // A ladder of only `handover` rests on it: the fault hands over.
  const retry = s.kind === 'handover' || state.attemptsUsed < s.attempts;
  const [step, attempt] = retry ? [state.step, state.attemptsUsed + 1] : [state.step + 1, 1];
  const cancel: LadderEffect[] =
    state.healthySince === undefined
      ? []
      : [{ type: 'cancel-timer', timerId: timerIds(state, state.step, state.attemptsUsed).stable }];
  return before(cancel, startAttempt(baseOf(state), ctx, step, attempt, `fault detected: ${reason}`));
}

/** Events that belong to one phase; anything else is stale (an old attempt's outcome) and ignored. */
function onPhaseEvent(state: LadderState, event: LadderEvent, ctx: Context): Transition {
  switch (state.phase) {
    case 'watching':
      if (
        event.type === 'timer-fired' &&
        state.healthySince !== undefined &&
        event.timerId === timerIds(state, state.step, state.attemptsUsed).stable
      ) {
        return resetLadder(state, `healthy for ${ctx.config.stablePeriodMs} ms`);
      }
      break;
    case 'running':
      if (event.type === 'stage-done' && event.key === attemptKey(state, state.step, state.attempt)) {
        return event.outcome.ok
          ? startProbing(baseOf(state), ctx, state.step, state.attempt, undefined)
          : failAttempt(state, ctx, event.outcome.reason);
      }
      break;
    case 'rebooting': {
      const timerId = timerIds(state, state.step, state.attempt).reboot;
      if (event.type === 'stage-done' && event.key === attemptKey(state, state.step, state.attempt)) {
        // The command returning is not the reboot: only a new boot id proves it. Wait for one.
        if (!event.outcome.ok) return failAttempt(state, ctx, event.outcome.reason);
        return { state, effects: [{ type: 'schedule-timer', timerId, delayMs: ctx.config.rebootTimeoutMs }] };
      }
      if (event.type === 'timer-fired' && event.timerId === timerId) {
        return failAttempt(state, ctx, `no reboot observed within ${ctx.config.rebootTimeoutMs} ms`);
      }
      break;
    }
    case 'requesting-volume':
      if (event.type === 'volume-result' && event.operationId === state.operationId) {
        if (!event.outcome.ok) return failAttempt(state, ctx, `no data volume: ${event.outcome.reason}`);
        const operationId = `${attemptKey(state, state.step, state.attempt)}:swap`;
        const { volumeId } = event.outcome;
        const { step, attempt } = state;
        return move(
          { ...baseOf(state), phase: 'swapping', step, attempt, operationId, volumeId },
          {
            type: 'swap',
            operationId,
            volumeId,
            attached: false,
          },
        );
      }
      break;
    case 'swapping':
      return swapping(state, event, ctx);
    case 'probing':
      return probing(state, event, ctx);
    case 'rolling-back':
      if (event.type === 'rollback-result' && event.operationId === state.swap.operationId) {
        if (event.outcome.ok) return failAttempt(state, ctx, state.reason);
        const kept = state.swap.previousVolumeId ?? 'the previous data volume';
        return handOver(
          baseOf(state),
          ctx,
          `rollback of data swap ${state.swap.operationId} failed (${event.outcome.reason}); management keeps ${kept}`,
        );
      }
      break;
    case 'confirming':
      if (event.type === 'confirm-result' && event.operationId === state.swap.operationId) {
        const done = recovered(state, ctx);
        if (event.outcome.ok) return done;
        // The guest is healthy on the new volume; an unconfirmed swap only keeps the old volume longer.
        const reason = `data swap ${state.swap.operationId} is healthy but not confirmed: ${event.outcome.reason}`;
        return {
          state: done.state,
          effects: [...done.effects, { type: 'notify-operator', reason, handover: false }],
        };
      }
      break;
    case 'handed-over':
      if (event.type === 'operator-notified' && !state.notified) return move({ ...state, notified: true });
      break;
  }
  return ignore(state, event, 'not the outcome this phase waits for');
}

function swapping(state: SwappingState, event: LadderEvent, ctx: Context): Transition {
  const swap: SwapInPlay = { operationId: state.operationId, volumeId: state.volumeId };
  if (event.type === 'swap-result' && event.operationId === state.operationId) {
    const { outcome } = event;
    if (!outcome.ok) return rollBack(state, swap, `swap failed at ${outcome.failedAt}: ${outcome.reason}`);
    if (outcome.previousVolumeId !== undefined) swap.previousVolumeId = outcome.previousVolumeId;
    return startProbing(baseOf(state), ctx, state.step, state.attempt, swap);
  }
  if (event.type === 'swap-checked' && event.operationId === state.operationId) {
    if (event.status === 'failed') {
      return rollBack(
        state,
        swap,
        `management reports the swap failed: ${event.reason ?? 'no reason given'}`,
      );
    }
    // `unknown`: the request never reached management, so this is its first run, not a repeat.
    // `done`: management finished; only the guest side (device, mount, start) is left to do.
    const attached = event.status === 'done';
    return {
      state,
      effects: [
        log('info', `resuming data swap ${state.operationId}: management reports ${event.status}`),
        { type: 'swap', operationId: state.operationId, volumeId: state.volumeId, attached },
      ],
    };
  }
  return ignore(state, event, 'not the outcome this phase waits for');
}

function probing(state: ProbingState, event: LadderEvent, ctx: Context): Transition {
  const key = attemptKey(state, state.step, state.attempt);
  const ids = timerIds(state, state.step, state.attempt);
  if (event.type === 'health-ok' && event.key === key) {
    if (!state.swap) return before(stopProbing(state), recovered(state, ctx));
    const { step, attempt, swap } = state;
    return before(
      stopProbing(state),
      move(
        { ...baseOf(state), phase: 'confirming', step, attempt, swap },
        {
          type: 'confirm-swap',
          operationId: swap.operationId,
        },
      ),
    );
  }
  if (event.type === 'health-failed' && event.key === key) {
    // Not final: the service may still be starting. The health window's timer decides.
    return {
      state: { ...state, lastFailure: event.reason },
      effects: [{ type: 'schedule-timer', timerId: ids.reprobe, delayMs: ctx.config.probeIntervalMs }],
    };
  }
  if (event.type === 'timer-fired' && event.timerId === ids.reprobe) {
    return {
      state,
      effects: [{ type: 'probe-health', key, timeoutMs: Math.max(0, state.deadline - ctx.at) }],
    };
  }
  if (event.type === 'timer-fired' && event.timerId === ids.health) {
    const reason = `not healthy within the health timeout (last probe: ${state.lastFailure ?? 'no answer'})`;
    const t = state.swap ? rollBack(state, state.swap, reason) : failAttempt(state, ctx, reason);
    return before(stopProbing(state), t);
  }
  return ignore(state, event, 'not the outcome this phase waits for');
}

/** After a restart or reboot: pick up the in-flight effect by checking its outcome, never by starting it blindly. */
function resume(state: LadderState, ctx: Context): Transition {
  const fingerprint = planFingerprint(ctx.config.stages);
  if (state.plan !== fingerprint) {
    const changed = `the ladder configuration changed from [${state.plan}] to [${fingerprint}]`;
    const base = { ...baseOf(state), plan: fingerprint };
    if (state.phase === 'watching')
      return move(atRest(base, state.epoch + 1), log('warn', `${changed}; reset`));
    if (state.phase !== 'handed-over') return handOver(base, ctx, `${changed} during a recovery`);
    return before([log('warn', changed)], resume({ ...state, plan: fingerprint }, ctx));
  }
  const key = (s: AttemptState) => attemptKey(s, s.step, s.attempt);
  const resumed = (s: AttemptState) => log('info', `resuming ${label(ctx, s.step, s.attempt)} in ${s.phase}`);
  switch (state.phase) {
    case 'watching': {
      if (state.healthySince === undefined) return move(state);
      const left = state.healthySince + ctx.config.stablePeriodMs - ctx.at;
      if (left <= 0) return resetLadder(state, `healthy for ${ctx.config.stablePeriodMs} ms`);
      const timerId = timerIds(state, state.step, state.attemptsUsed).stable;
      return move(state, { type: 'schedule-timer', timerId, delayMs: left });
    }
    case 'running':
      // Persisted before the command started; restarting a service again is harmless if it had run.
      return move(state, resumed(state), {
        type: 'run-stage',
        key: key(state),
        kind: stepKind(ctx, state.step),
      });
    case 'rebooting':
      if (state.bootId !== state.bootIdBefore) {
        return before(
          [log('info', `reboot observed (boot ${state.bootIdBefore} -> ${state.bootId})`)],
          startProbing(baseOf(state), ctx, state.step, state.attempt, undefined),
        );
      }
      // Same boot: the reboot never happened, so issuing it now is its first run.
      return move(state, resumed(state), { type: 'run-stage', key: key(state), kind: 'reboot' });
    case 'probing':
      // Probes only read; a fresh window keeps a crash from counting against the stage.
      return before(
        [resumed(state)],
        startProbing(baseOf(state), ctx, state.step, state.attempt, state.swap),
      );
    case 'requesting-volume': {
      // The idempotency key makes this a status check: management answers with the operation it already has.
      const s = stepAt(ctx.plan, state.step);
      if (s.kind !== 'data-swap') throw new LadderStateError(`step ${state.step} is not a data swap`);
      return move(state, resumed(state), {
        type: 'request-volume',
        operationId: state.operationId,
        source: s.source,
      });
    }
    case 'swapping':
      return move(state, resumed(state), { type: 'check-swap', operationId: state.operationId });
    case 'rolling-back':
      return move(state, resumed(state), { type: 'rollback-swap', operationId: state.swap.operationId });
    case 'confirming':
      return move(state, resumed(state), { type: 'confirm-swap', operationId: state.swap.operationId });
    case 'handed-over': {
      const still = log('warn', `still handed over to the operator: ${state.reason}`);
      if (state.notified) return move(state, still);
      return move(state, still, { type: 'notify-operator', reason: state.reason, handover: true });
    }
  }
}

function stepKind(ctx: Context, step: number): CommandStageKind {
  const s = stepAt(ctx.plan, step);
  if (s.kind === 'handover' || s.kind === 'data-swap')
    throw new LadderStateError(`step ${step} runs no command`);
  return s.kind;
}
