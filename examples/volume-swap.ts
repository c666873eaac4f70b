/**
 * The service clients end to end on a real cloud: boot a server from an image-backed volume with
 * a second data volume, snapshot the data volume, build a new volume from the snapshot, detach
 * the old data volume, attach the new one, then delete everything.
 *
 *   OS_CLOUD=devstack DATASWAP_FLAVOR=m1.tiny npx tsx examples/volume-swap.ts
 */
import { connect, type Cloud } from '../src/index.js';

const flavorName = process.env.DATASWAP_FLAVOR ?? 'ds.small';
const tag = `dataswap-example-${Date.now().toString(36)}`;

/**
 * What the example made, deleted newest first even when a step failed — the server before
 * everything, since it holds the volumes.
 */
const cleanups: Array<() => Promise<unknown>> = [];
let deleteServer: (() => Promise<unknown>) | undefined;

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  console.log(`${what.padEnd(44)} ${String(Date.now() - started).padStart(6)} ms`);
  return result;
}

async function main(cloud: Cloud): Promise<void> {
  const { nova, cinder, glance } = cloud;
  const flavor = await step(`find flavor ${flavorName}`, () => nova.flavors.findByName(flavorName));

  const image = await step('upload software image (1 MiB)', () =>
    glance.images.createFromData({ name: `${tag}-software`, diskFormat: 'raw', role: 'software' }, Buffer.alloc(1 << 20)),
  );
  cleanups.push(() => glance.images.delete(image.id));

  const data = await step('create data volume (1 GiB)', async () => {
    const v = await cinder.volumes.create({ name: `${tag}-data`, size: 1 });
    cleanups.push(() => cinder.volumes.delete(v.id).then(() => cinder.volumes.waitForDeleted(v.id)));
    return cinder.volumes.waitForAvailable(v.id);
  });

  const server = await step('boot from volume with the data volume', async () => {
    const created = await nova.servers.create({
      name: `${tag}-server`,
      flavorRef: flavor.id,
      networks: 'none',
      blockDeviceMappings: [
        { sourceType: 'image', destinationType: 'volume', uuid: image.id, bootIndex: 0, volumeSize: 1, deleteOnTermination: true },
        { sourceType: 'volume', destinationType: 'volume', uuid: data.id, bootIndex: -1, deleteOnTermination: false },
      ],
    });
    deleteServer = () => nova.servers.delete(created.id).then(() => nova.servers.waitForDeleted(created.id));
    return nova.servers.waitForActive(created.id);
  });
  await cinder.volumes.waitForInUse(data.id);

  const snapshot = await step('snapshot the in-use data volume', async () => {
    const s = await cinder.snapshots.create({ volumeId: data.id, name: `${tag}-gen-1`, inUse: true });
    cleanups.push(() => cinder.snapshots.delete(s.id).then(() => cinder.snapshots.waitForDeleted(s.id)));
    return cinder.snapshots.waitForAvailable(s.id);
  });

  const restored = await step('create a volume from the snapshot', async () => {
    const v = await cinder.volumes.create({ name: `${tag}-data-2`, snapshotId: snapshot.id });
    cleanups.push(() => cinder.volumes.delete(v.id).then(() => cinder.volumes.waitForDeleted(v.id)));
    return cinder.volumes.waitForAvailable(v.id);
  });

  await step('detach the old data volume', async () => {
    await nova.volumeAttachments.detach(server.id, data.id);
    await nova.volumeAttachments.waitForDetached(server.id, data.id);
    await cinder.volumes.waitForAvailable(data.id);
  });

  await step('attach the new data volume', async () => {
    await nova.volumeAttachments.attach(server.id, { volumeId: restored.id });
    await nova.volumeAttachments.waitForAttached(server.id, restored.id);
    await cinder.volumes.waitForInUse(restored.id);
  });

  const attached: string[] = [];
  for await (const a of nova.volumeAttachments.list(server.id)) attached.push(a.volumeId);
  if (!attached.includes(restored.id) || attached.includes(data.id)) {
    throw new Error(`unexpected attachments after the swap: ${attached.join(', ')}`);
  }
  console.log(`server ${server.id} now has the restored data volume ${restored.id}`);
}

const cloud = await connect();
let failed = false;
try {
  await main(cloud);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await step('delete everything', async () => {
    for (const cleanup of [...(deleteServer ? [deleteServer] : []), ...cleanups.reverse()]) {
      await cleanup().catch((e: unknown) => console.error(`clean-up failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  });
}
process.exitCode = failed ? 1 : 0;
