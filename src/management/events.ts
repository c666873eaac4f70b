import { EventEmitter } from 'node:events';

/** What the management device tells an orchestrator, each with the guest and the request ids. */
export interface ManagementEvents {
  'guest-created': { guestId: string; serverId: string; dataVolumeId: string };
  'guest-recreated': { guestId: string; serverId: string; previousServerId: string; dataVolumeId: string };
  'guest-deleted': { guestId: string; keptSnapshots: number };
  'backup-taken': { guestId: string; snapshotId: string; generation: number; requestId: string; pruned: string[] };
  'data-volume-created': { guestId: string; volumeId: string; source: string; requestId: string };
  'swap-done': { guestId: string; oldVolumeId: string; newVolumeId: string; requestId: string };
  'swap-rolled-back': { guestId: string; oldVolumeId: string; newVolumeId: string; requestId: string; reason: string };
  'swap-confirmed': { guestId: string; oldVolumeId: string; kept: boolean };
  'handover-requested': { guestId: string; reason: string; requestId: string };
}

export type ManagementEventName = keyof ManagementEvents;

/** A typed `EventEmitter` for {@link ManagementEvents}. */
export class ManagementEventEmitter {
  private readonly emitter = new EventEmitter();

  on<E extends ManagementEventName>(event: E, listener: (payload: ManagementEvents[E]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends ManagementEventName>(event: E, listener: (payload: ManagementEvents[E]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  once<E extends ManagementEventName>(event: E, listener: (payload: ManagementEvents[E]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  emit<E extends ManagementEventName>(event: E, payload: ManagementEvents[E]): void {
    this.emitter.emit(event, payload);
  }
}
