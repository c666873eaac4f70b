/**
 * The clean-up at the end of the demo — also after a failure or Ctrl-C, when operations may have
 * been cut off half-way: deletes the servers the older way re-created, the whole-VM snapshots and
 * images, every guest through the management device (servers, data volumes, backups), then whatever
 * volume or snapshot is still left; and counts what remains.
 *
 * A resource caught in a transient status (a snapshot still `creating`, a volume still `detaching`)
 * is waited for before it is deleted, and a pass that left something behind is repeated.
 */
import type { Cloud } from '../connect.js';
import { NotFoundError } from '../core/errors.js';
import { collect } from '../core/paginate.js';
import type { PollOptions } from '../core/waiter.js';
import type { ManagementDevice } from '../management/device.js';
import { LABEL } from '../management/labels.js';
import type { ResourceLedger } from './ledger.js';
import { snapshotsOfImage } from './older-way.js';
import type { DemoTarget, ResourceCount } from './target.js';

/** What the clean-up needs. */
export interface CleanupContext {
  cloud: Cloud;
  device: ManagementDevice | undefined;
  ledger: ResourceLedger;
  poll: PollOptions;
  say: (line: string) => void;
}

const SETTLED_SNAPSHOT = ['available', 'error'];
const SETTLED_VOLUME = ['available', 'error', 'error_restoring', 'error_extending'];
const PASSES = 3;

async function gone(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/**
 * Deletes everything in the ledger, in an order the cloud accepts (a volume with snapshots cannot be
 * deleted; a snapshot still being created cannot either). Returns what could not be deleted.
 */
export async function cleanUp(ctx: CleanupContext): Promise<string[]> {
  const { cloud, device, ledger, poll, say } = ctx;
  const { nova, cinder, glance } = cloud;
  let failures: string[] = [];
  const attempt = async (what: string, run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await gone(run);
      return true;
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  };
  const deleteSnapshot = async (id: string) => {
    const s = await cinder.snapshots.get(id);
    if (!SETTLED_SNAPSHOT.includes(s.status))
      await cinder.snapshots.waitForStatus(id, SETTLED_SNAPSHOT, poll);
    await cinder.snapshots.delete(id);
    await cinder.snapshots.waitForDeleted(id, poll);
  };
  const deleteVolume = async (id: string): Promise<boolean> => {
    const v = await cinder.volumes.get(id);
    if (!SETTLED_VOLUME.includes(v.status))
      await cinder.volumes.waitForStatus(id, ['available', 'error'], poll);
    if (!(await cinder.volumes.delete(id))) return false;
    await cinder.volumes.waitForDeleted(id, poll);
    return true;
  };

  const guestsDone = new Set<string>();
  for (let pass = 1; pass <= PASSES; pass++) {
    failures = [];
    for (const id of ledger.foreignServers) await attempt(`server ${id}`, () => nova.servers.delete(id));
    for (const id of ledger.foreignServers)
      await attempt(`server ${id}`, () => nova.servers.waitForDeleted(id, poll));
    // A whole-VM snapshot cut off half-way: its image names volume snapshots the ledger may not have yet.
    for (const id of ledger.images) {
      await attempt(`image ${id}`, async () => {
        for (const s of snapshotsOfImage(await glance.images.get(id)))
          ledger.foreignSnapshots.add(s.snapshotId);
      });
    }
    for (const id of ledger.foreignSnapshots) await attempt(`snapshot ${id}`, () => deleteSnapshot(id));
    for (const id of ledger.images) await attempt(`image ${id}`, () => glance.images.delete(id));
    if (device) {
      for (const guestId of ledger.guests) {
        if (guestsDone.has(guestId)) continue;
        await attempt(`guest ${guestId}`, async () => {
          // A backup cut off half-way is still `creating`: Cinder deletes it only once it settles.
          for (const s of await collect(cinder.snapshots.list({ metadata: { [LABEL.guest]: guestId } }))) {
            if (!SETTLED_SNAPSHOT.includes(s.status))
              await cinder.snapshots.waitForStatus(s.id, SETTLED_SNAPSHOT, poll);
          }
          const r = await device.deleteGuest(guestId);
          guestsDone.add(guestId);
          say(
            `guest ${guestId}: deleted ${r.deletedVolumes.length} volumes, ${r.deletedSnapshots.length} backups`,
          );
        });
      }
    }
    // Left: volumes no guest owns any more (the older way's re-created disks, a volume of a step cut off).
    let volumes = 0;
    for (const id of ledger.volumes) {
      await attempt(`volume ${id}`, async () => {
        if (await deleteVolume(id)) volumes++;
      });
    }
    for (const id of ledger.snapshots) await attempt(`snapshot ${id}`, () => deleteSnapshot(id));
    if (volumes > 0)
      say(`deleted ${volumes} more volumes (not a guest's any more: the older way's re-created disks)`);
    if (failures.length === 0) break;
    if (pass < PASSES) {
      for (const f of failures) say(`retrying: ${f.length > 200 ? `${f.slice(0, 200)}…` : f}`);
    }
  }
  return failures;
}

/**
 * What is left. On the emulator: every server, volume, snapshot (and Cinder backup) and image in it.
 * On a real cloud: whatever still exists of what the demo created, of the device's labelled
 * resources (its orphan search) and of the images named with the run's prefix.
 */
export async function countLeft(
  target: DemoTarget,
  ledger: ResourceLedger,
  device: ManagementDevice | undefined,
  namePrefix: string,
): Promise<ResourceCount> {
  if (target.kind === 'emulator') return target.resourcesLeft(ledger);
  const volumes = new Set(ledger.volumes);
  const snapshots = new Set(ledger.snapshots);
  const images = new Set(ledger.images);
  if (device) {
    const orphans = await device.findOrphans();
    for (const v of orphans.volumes) volumes.add(v.id);
    for (const s of orphans.snapshots) snapshots.add(s.id);
  }
  for (const image of await collect(target.cloud.glance.images.list())) {
    if (image.name?.startsWith(namePrefix)) images.add(image.id);
  }
  return target.resourcesLeft({ servers: ledger.servers, volumes, snapshots, images });
}
