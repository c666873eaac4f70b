/**
 * Every service-client call the library uses, against the real cloud named by OS_CLOUD, with the
 * waiters on real status transitions. Everything made here is named `it-<run>-…` and deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Cloud } from '../../src/connect.js';
import { collect } from '../../src/core/paginate.js';
import { NotFoundError, ResourceFailedError, WaitTimeoutError } from '../../src/core/errors.js';
import { parseMicroversion } from '../../src/core/microversion.js';
import { CinderClient } from '../../src/cinder/client.js';

const run = `it-${Date.now().toString(36)}`;
const poll = { intervalMs: 100, maxIntervalMs: 1_000, timeoutMs: 120_000 };
const flavorName = process.env.DATASWAP_FLAVOR ?? 'ds.small';
let cloud: Cloud;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  cloud = await connect();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function image(name: string, size = 1 << 20): Promise<string> {
  const img = await cloud.glance.images.createFromData({ name: `${run}-${name}`, diskFormat: 'raw' }, Buffer.alloc(size, 3), {
    wait: poll,
  });
  cleanups.push(() => cloud.glance.images.delete(img.id));
  return img.id;
}

async function volume(name: string, extra: Parameters<Cloud['cinder']['volumes']['create']>[0] = { size: 1 }): Promise<string> {
  const v = await cloud.cinder.volumes.create({ name: `${run}-${name}`, ...extra });
  cleanups.push(async () => {
    await cloud.cinder.volumes.delete(v.id, { cascade: true });
    await cloud.cinder.volumes.waitForDeleted(v.id, poll);
  });
  await cloud.cinder.volumes.waitForAvailable(v.id, poll);
  return v.id;
}

describe('Keystone', () => {
  it('authenticates and negotiates microversions', async () => {
    const token = await cloud.session.tokenInfo();
    expect(token.catalog.length).toBeGreaterThan(0);
    expect(cloud.microversions.compute[0]).toBe(2);
    expect(cloud.microversions.volume[0]).toBe(3);
  });

  it('re-authenticates after the token is refused', async () => {
    const before = cloud.session.authentications;
    const token = await cloud.session.token();
    cloud.session.invalidate(token);
    await collect(cloud.cinder.volumeTypes.list());
    expect(cloud.session.authentications).toBe(before + 1);
  });
});

describe('Glance', () => {
  it('uploads, verifies, finds, lists across pages, tags, patches and deletes an image', async () => {
    const id = await image('glance');
    const found = await cloud.glance.images.find(`${run}-glance`);
    expect(found).toMatchObject({ id, status: 'active', size: 1 << 20 });
    await cloud.glance.images.addTag(id, 'dataswap-it');
    const tagged = await collect(cloud.glance.images.list({ tag: ['dataswap-it'], limit: 1 }));
    expect(tagged.map((i) => i.id)).toContain(id);
    const patched = await cloud.glance.images.update(id, [{ op: 'add', attribute: 'dataswap_it', value: 'yes' }]);
    expect((patched as Record<string, unknown>).dataswap_it).toBe('yes');
    await cloud.glance.images.removeTag(id, 'dataswap-it');
    await cloud.glance.images.delete(id);
    await cloud.glance.images.waitForDeleted(id, poll);
    await expect(cloud.glance.images.get(id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Cinder', () => {
  it('creates volumes from nothing, an image, a snapshot and a volume, and extends one', async () => {
    const blank = await volume('blank');
    const img = await image('for-volume');
    const fromImage = await volume('from-image', { size: 1, imageRef: img });
    expect((await cloud.cinder.volumes.get(fromImage)).bootable).toBe('true');
    const snap = await cloud.cinder.snapshots.create({ volumeId: blank, name: `${run}-snap` });
    cleanups.push(() => cloud.cinder.snapshots.delete(snap.id));
    await cloud.cinder.snapshots.waitForAvailable(snap.id, poll);
    const fromSnap = await volume('from-snap', { snapshotId: snap.id });
    const clone = await volume('clone', { sourceVolumeId: fromImage });
    expect((await cloud.cinder.volumes.get(fromSnap)).snapshot_id).toBe(snap.id);
    expect((await cloud.cinder.volumes.get(clone)).source_volid).toBe(fromImage);
    await cloud.cinder.volumes.extend(blank, { newSize: 2 });
    expect((await cloud.cinder.volumes.waitForAvailable(blank, poll)).size).toBe(2);
    await cloud.cinder.snapshots.delete(snap.id);
    await cloud.cinder.snapshots.waitForDeleted(snap.id, poll);
  });

  it('pages through more volumes than the server returns at once, and filters by metadata', async () => {
    const ids = await Promise.all(Array.from({ length: 7 }, (_, i) => volume(`page-${i}`, { size: 1, metadata: { 'dataswap:it': run } })));
    const all = await collect(cloud.cinder.volumes.list({ pageSize: 2 }));
    expect(all.map((v) => v.id)).toEqual(expect.arrayContaining(ids));
    const mine = await collect(cloud.cinder.volumes.list({ metadata: { 'dataswap:it': run } }));
    expect(mine.map((v) => v.id).sort()).toEqual([...ids].sort());
  });

  it('updates, replaces and deletes metadata', async () => {
    const id = await volume('meta');
    await cloud.cinder.volumes.updateMetadata(id, { a: '1', b: '2' });
    await cloud.cinder.volumes.replaceMetadata(id, { b: '3' });
    expect(await cloud.cinder.volumes.deleteMetadataKey(id, 'b')).toBe(true);
    expect((await cloud.cinder.volumes.get(id)).metadata).toEqual({});
  });

  it('deletes idempotently and the deletion waiter ends on 404', async () => {
    const id = await volume('gone');
    expect(await cloud.cinder.volumes.delete(id)).toBe(true);
    await cloud.cinder.volumes.waitForDeleted(id, poll);
    expect(await cloud.cinder.volumes.delete(id)).toBe(false);
  });

  it('times out a waiter on a status that never comes, naming the last one', async () => {
    const id = await volume('never-in-use');
    const err = await cloud.cinder.volumes.waitForInUse(id, { ...poll, timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('available');
  });
});

describe('Nova', () => {
  let serverId: string;
  let dataId: string;

  it('boots from an image-backed volume with a data volume, tags and metadata', async () => {
    const img = await image('software');
    dataId = await volume('data');
    const flavor = await cloud.nova.flavors.findByName(flavorName);
    const created = await cloud.nova.servers.create({
      name: `${run}-server`,
      flavorRef: flavor.id,
      networks: 'none',
      blockDeviceMappings: [
        { sourceType: 'image', destinationType: 'volume', uuid: img, bootIndex: 0, volumeSize: 1, deleteOnTermination: true },
        { sourceType: 'volume', destinationType: 'volume', uuid: dataId, bootIndex: -1, deleteOnTermination: false },
      ],
      metadata: { 'dataswap:it': run },
      tags: ['dataswap-it'],
      userData: '#cloud-config\n',
      clientToken: `${run}-token`,
    });
    serverId = created.id;
    cleanups.push(async () => {
      await cloud.nova.servers.delete(created.id);
      await cloud.nova.servers.waitForDeleted(created.id, poll);
    });
    const server = await cloud.nova.servers.waitForActive(serverId, poll);
    expect(server.image).toBe('');
    expect(server['os-extended-volumes:volumes_attached']?.map((v) => v.id)).toContain(dataId);
    expect((await cloud.nova.servers.findByClientToken(`${run}-token`, { name: `${run}-server` }))?.id).toBe(serverId);
    const listed = await collect(cloud.nova.servers.list({ tags: ['dataswap-it'], pageSize: 1 }));
    expect(listed.map((s) => s.id)).toContain(serverId);
    await cloud.nova.servers.metadata.set(serverId, 'k', 'v');
    expect((await cloud.nova.servers.metadata.get(serverId)).k).toBe('v');
    await cloud.nova.servers.tags.add(serverId, 'extra');
    expect(await cloud.nova.servers.tags.has(serverId, 'extra')).toBe(true);
    await cloud.nova.servers.tags.remove(serverId, 'extra');
  });

  it('snapshots the in-use data volume with and without force by microversion', async () => {
    await cloud.cinder.volumes.waitForInUse(dataId, poll);
    const at370 = await cloud.cinder.snapshots.create({ volumeId: dataId, name: `${run}-snap-370`, inUse: true });
    const old = new CinderClient(cloud.services.volume.withMicroversion(parseMicroversion('3.65')));
    const at365 = await old.snapshots.create({ volumeId: dataId, name: `${run}-snap-365`, inUse: true });
    for (const s of [at370, at365]) {
      await cloud.cinder.snapshots.waitForAvailable(s.id, poll);
      await cloud.cinder.snapshots.delete(s.id);
      await cloud.cinder.snapshots.waitForDeleted(s.id, poll);
    }
  });

  it('detaches and attaches a data volume through Nova, waiting on both services', async () => {
    const attachments = await collect(cloud.nova.volumeAttachments.list(serverId));
    expect(attachments.map((a) => a.volumeId)).toContain(dataId);
    expect((await cloud.nova.volumeAttachments.get(serverId, dataId)).serverId).toBe(serverId);
    await cloud.nova.volumeAttachments.detach(serverId, dataId);
    await cloud.nova.volumeAttachments.waitForDetached(serverId, dataId, poll);
    await cloud.cinder.volumes.waitForAvailable(dataId, poll);
    await cloud.nova.volumeAttachments.attach(serverId, { volumeId: dataId });
    await cloud.cinder.volumes.waitForInUse(dataId, poll);
    await cloud.nova.volumeAttachments.waitForAttached(serverId, dataId, poll);
  });

  it('reboots soft and hard', async () => {
    await cloud.nova.servers.reboot(serverId, 'SOFT');
    await cloud.nova.servers.waitForActive(serverId, poll);
    await cloud.nova.servers.reboot(serverId, 'HARD');
    await cloud.nova.servers.waitForActive(serverId, poll);
  });

  it('deletes the server; the data volume outlives it', async () => {
    await cloud.nova.servers.delete(serverId);
    await cloud.nova.servers.waitForDeleted(serverId, poll);
    expect(await cloud.nova.servers.get(serverId).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    expect((await cloud.cinder.volumes.waitForAvailable(dataId, poll)).attachments).toEqual([]);
  });

  it('fails a server wait at once on ERROR with the fault', async () => {
    const flavor = await cloud.nova.flavors.findByName(flavorName);
    // A boot volume larger than any quota or backend allows ends in ERROR on a real cloud.
    const created = await cloud.nova.servers.create({
      name: `${run}-doomed`,
      flavorRef: flavor.id,
      networks: 'none',
      blockDeviceMappings: [{ sourceType: 'blank', destinationType: 'volume', bootIndex: 0, volumeSize: 100_000, deleteOnTermination: true }],
    });
    cleanups.push(async () => {
      await cloud.nova.servers.delete(created.id);
      await cloud.nova.servers.waitForDeleted(created.id, poll);
    });
    const err = await cloud.nova.servers.waitForActive(created.id, poll).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceFailedError);
    expect((err as ResourceFailedError).fault).toBeTruthy();
  });
});
