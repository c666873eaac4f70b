/**
 * The management device's whole flow on a real cloud: create a guest (boot volume from the
 * software image, data volume from the startup image), back it up twice, build a data volume from
 * the latest backup, swap it in, confirm, re-create the guest on other hardware, delete it.
 *
 *   OS_CLOUD=devstack DATASWAP_FLAVOR=m1.tiny npx tsx examples/management-flow.ts
 */
import { connect, ManagementDevice, type Cloud } from '../src/index.js';

const run = Date.now().toString(36);
const flavor = process.env.DATASWAP_FLAVOR ?? 'ds.small';
const guestId = `example-${run}`;

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await fn();
  console.log(`${what.padEnd(48)} ${String(Date.now() - started).padStart(6)} ms`);
  return result;
}

async function uploadImages(cloud: Cloud): Promise<string[]> {
  const software = await cloud.glance.images.createFromData(
    { name: `dataswap-software-${run}`, diskFormat: 'raw', role: 'software' },
    Buffer.alloc(1 << 20, 1),
  );
  const startup = await cloud.glance.images.createFromData(
    { name: `dataswap-startup-${run}`, diskFormat: 'raw', role: 'startup' },
    Buffer.alloc(1 << 20, 2),
  );
  return [software.id, startup.id];
}

const cloud = await connect();
const images = await step('upload software and startup images', () => uploadImages(cloud));
const device = new ManagementDevice(cloud, {
  softwareImage: images[0]!,
  startupImage: images[1]!,
  flavor,
  networks: 'none',
  retention: { generations: 2 },
});
device.events.on('swap-done', (e) => console.log(`  event swap-done: ${e.oldVolumeId} -> ${e.newVolumeId}`));

let failed = false;
try {
  const guest = await step(`create guest ${guestId}`, () => device.createGuest({ guestId, data: 'startup' }));
  console.log(`  server ${guest.serverId}, data volume ${guest.dataVolumeId}`);
  await step('back up (generation 1)', () => device.backupDataVolume(guestId));
  const second = await step('back up (generation 2)', () => device.backupDataVolume(guestId));
  console.log(`  latest generation ${second.backup.generation}`);
  const vol = await step('create data volume from the latest backup', () => device.createDataVolume(guestId, { from: 'latest' }));
  await step('swap the data volume in the running server', () => device.swapDataVolume(guestId, vol.volumeId));
  const confirmed = await step('confirm the swap', () => device.confirmSwap(guestId));
  console.log(`  old data volume ${confirmed.releasedVolumeId} ${confirmed.kept ? 'kept (backups depend on it)' : 'deleted'}`);
  const again = await step('re-create the guest on other hardware', () => device.recreateGuest(guestId, { differentHost: false }));
  console.log(`  new server ${again.serverId} replaces ${again.previousServerId}`);
  const view = await device.getGuest(guestId);
  console.log(`  guest ${view.guestId}: incarnation ${view.incarnation}, ${view.backups.length} backups`);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  const removed = await step('delete the guest and its backups', () => device.deleteGuest(guestId));
  console.log(`  deleted ${removed.deletedVolumes.length} volumes, ${removed.deletedSnapshots.length} snapshots`);
  const orphans = await device.findOrphans();
  console.log(`  orphans left: ${orphans.volumes.length + orphans.snapshots.length}`);
  for (const id of images) await cloud.glance.images.delete(id);
}
process.exitCode = failed ? 1 : 0;
