import { createHash } from 'node:crypto';
import { isDataswapError } from '../../core/errors.js';
import { GuestOperationError } from '../errors.js';

/** A long operation of the guest API, polled at `GET /v1/operations/{id}`. */
export interface Operation {
  id: string;
  guestId: string;
  kind: OperationKind;
  status: 'pending' | 'succeeded' | 'failed';
  /** The idempotency key the operation was started with (also its cloud-side request id). */
  key: string;
  createdAt: string;
  updatedAt: string;
  result?: unknown;
  error?: { code: string; message: string; step?: string | undefined; requestId?: string | undefined } | undefined;
}

export type OperationKind = 'backup' | 'data-volume' | 'swap' | 'confirm' | 'rollback';

/**
 * In-memory record of operations, keyed so that the same guest, kind and idempotency key always
 * name the same operation. Finished operations are forgotten after `ttlMs`; the cloud-side effect
 * stays idempotent by the same key, so a late retry is still safe.
 */
export class OperationStore {
  private readonly ops = new Map<string, Operation & { bodyHash: string; expires: number }>();

  constructor(
    private readonly ttlMs = 24 * 3_600_000,
    private readonly max = 100_000,
  ) {}

  static idFor(guestId: string, kind: OperationKind, key: string): string {
    return `op-${createHash('sha256').update(`${guestId}\n${kind}\n${key}`).digest('hex').slice(0, 32)}`;
  }

  get(id: string): Operation | undefined {
    this.evict();
    const op = this.ops.get(id);
    if (!op) return undefined;
    const { bodyHash: _b, expires: _e, ...visible } = op;
    return visible;
  }

  /**
   * Starts `run` unless an operation with the same key exists: then returns that one (`reused`), or
   * `conflict` when the same key came with another body.
   */
  start(
    guestId: string,
    kind: OperationKind,
    key: string,
    body: string,
    run: () => Promise<unknown>,
  ): { op: Operation; reused: boolean } | { conflict: true } {
    this.evict();
    const id = OperationStore.idFor(guestId, kind, key);
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const existing = this.ops.get(id);
    if (existing) return existing.bodyHash === bodyHash ? { op: this.get(id)!, reused: true } : { conflict: true };
    if (this.ops.size >= this.max) {
      const oldest = this.ops.keys().next().value;
      if (oldest !== undefined) this.ops.delete(oldest);
    }
    const now = new Date().toISOString();
    const op = { id, guestId, kind, key, status: 'pending' as const, createdAt: now, updatedAt: now, bodyHash, expires: Infinity };
    this.ops.set(id, op);
    void run().then(
      (result) => this.finish(id, { status: 'succeeded', result }),
      (err: unknown) => this.finish(id, { status: 'failed', error: describeError(err) }),
    );
    return { op: this.get(id)!, reused: false };
  }

  /** Resolves when the operation is no longer pending (for in-process callers and tests). */
  async settled(id: string, pollMs = 10): Promise<Operation | undefined> {
    for (;;) {
      const op = this.get(id);
      if (!op || op.status !== 'pending') return op;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private finish(id: string, patch: Pick<Operation, 'status' | 'result' | 'error'>): void {
    const op = this.ops.get(id);
    if (!op) return;
    Object.assign(op, patch, { updatedAt: new Date().toISOString(), expires: Date.now() + this.ttlMs });
  }

  private evict(): void {
    const now = Date.now();
    for (const [id, op] of this.ops) if (op.expires <= now) this.ops.delete(id);
  }
}

/** The part of an error a guest may see: code, message, step, request id — never a stack. */
export function describeError(err: unknown): NonNullable<Operation['error']> {
  if (err instanceof GuestOperationError) return { code: err.code, message: err.message, step: err.step, requestId: err.requestId };
  if (isDataswapError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'internal error' };
}
