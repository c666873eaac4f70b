/**
 * Everything the demo created, by id, recorded as it is created (guests through the management
 * device's events, the rest where the demo makes it). The clean-up deletes from it and, on a real
 * cloud, the final count checks it.
 */
import type { ManagementDevice } from '../management/device.js';
import type { CreatedIds } from './target.js';

export class ResourceLedger implements CreatedIds {
  readonly guests = new Set<string>();
  readonly servers = new Set<string>();
  readonly volumes = new Set<string>();
  readonly snapshots = new Set<string>();
  readonly images = new Set<string>();
  /** Servers the management device does not know (re-created the older way); deleted directly. */
  readonly foreignServers = new Set<string>();
  /** Snapshots the management device does not know (whole-VM snapshots); deleted directly. */
  readonly foreignSnapshots = new Set<string>();

  /** Records what the device creates for its guests. */
  follow(device: ManagementDevice): void {
    device.events.on('guest-created', (e) => {
      this.guests.add(e.guestId);
      this.servers.add(e.serverId);
      this.volumes.add(e.dataVolumeId);
    });
    device.events.on('backup-taken', (e) => this.snapshots.add(e.snapshotId));
    device.events.on('data-volume-created', (e) => this.volumes.add(e.volumeId));
  }

  /** A copy, for the summary. */
  counts(): { servers: number; volumes: number; snapshots: number; images: number } {
    return {
      servers: this.servers.size,
      volumes: this.volumes.size,
      snapshots: this.snapshots.size,
      images: this.images.size,
    };
  }
}
