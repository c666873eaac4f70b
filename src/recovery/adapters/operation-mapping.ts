import type { VolumeSource } from '../ladder.js';
import type { Operation as PortOperation } from '../management-port.js';

/** An operation as the guest API (or the in-process device) reports it. */
export interface DeviceOperation {
  id: string;
  kind: string;
  status: 'pending' | 'succeeded' | 'failed';
  result?: unknown;
  error?: { code: string; message: string; step?: string | undefined } | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The port's view of a device operation: the volume now in play (`volumeId`) and, for a swap, the
 * one it detached and kept (`previousVolumeId`).
 */
export function toPortOperation(op: DeviceOperation): PortOperation {
  const out: PortOperation = { operationId: op.id, status: op.status };
  const r = (op.result ?? {}) as Record<string, unknown>;
  const volumeId =
    op.kind === 'swap' ? str(r.newVolumeId) : op.kind === 'data-volume' ? str(r.volumeId) : str(r.dataVolumeId);
  if (volumeId) out.volumeId = volumeId;
  if (op.kind === 'swap' && str(r.oldVolumeId)) out.previousVolumeId = str(r.oldVolumeId)!;
  if (op.error) out.error = op.error.step ? `${op.error.code} at ${op.error.step}: ${op.error.message}` : `${op.error.code}: ${op.error.message}`;
  return out;
}

/** The ladder's source in the device's terms (`generation` there counts back from the latest). */
export function toDeviceSource(source: VolumeSource): 'latest' | 'startup' | { previous: number } {
  return source.from === 'generation' ? { previous: source.generation } : source.from;
}
