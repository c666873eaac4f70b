import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { apis, eventually, MISSING, type Apis, type VolumeBody } from './helpers.js';

interface Fault {
  [name: string]: { code: number; message: string };
}

describe('emulated Nova: POST /servers validation', () => {
  let emu: Emulator;
  let api: Apis;
  let imageId: string;
  let volumeId: string;
  let snapshotId: string;
  beforeAll(async () => {
    emu = await startEmulator({ delays: 0 });
    api = await apis(emu);
    imageId = emu.seed.image({ name: 'software', data: Buffer.alloc(4096) }).id;
    volumeId = emu.seed.volume({ size: 1, name: 'data' }).id;
    const snap = await api.cinder.post<{ snapshot: { id: string } }>('/snapshots', { snapshot: { volume_id: volumeId } });
    snapshotId = snap.body.snapshot.id;
    await emu.idle();
  });
  afterAll(() => emu.close());

  const root = { source_type: 'image', destination_type: 'volume', uuid: '', boot_index: 0, volume_size: 1 };
  const boot = (bdms: unknown[], server: Record<string, unknown> = {}, version = '2.93') =>
    api.nova.at(version).post<Fault>('/servers', {
      server: { name: 'v', flavorRef: '1', imageRef: '', networks: 'none', block_device_mapping_v2: bdms, ...server },
    });
  const message = (res: { body: Fault }) => res.body.badRequest?.message;
  const rootOf = () => ({ ...root, uuid: imageId });

  it('accepts a valid boot from volume (the baseline every other case changes one thing of)', async () => {
    expect((await boot([rootOf()])).status).toBe(202);
  });

  it('needs a boot index 0 and contiguous boot indexes', async () => {
    const sequence = 'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.';
    expect(message(await boot([{ ...rootOf(), boot_index: 1 }]))).toBe(sequence);
    expect(message(await boot([{ ...rootOf(), boot_index: -1 }]))).toBe(sequence);
    const gap = await boot([rootOf(), { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 2 }]);
    expect(message(gap)).toBe(sequence);
    const twice = await boot([rootOf(), { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0 }]);
    expect(message(twice)).toBe(sequence);
    const contiguous = await boot([rootOf(), { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: '1' }]);
    expect(contiguous.status).toBe(202);
  });

  it('needs a uuid for every source but blank, and refuses one for blank', async () => {
    expect(message(await boot([{ ...rootOf(), uuid: undefined }]))).toBe('Block Device Mapping is Invalid: Missing device UUID.');
    expect(message(await boot([rootOf(), { source_type: 'blank', destination_type: 'volume', volume_size: 1, uuid: imageId }]))).toBe(
      'Block Device Mapping is Invalid: Invalid device UUID.',
    );
    expect(message(await boot([rootOf(), { source_type: 'volume', destination_type: 'volume' }]))).toBe('Block Device Mapping is Invalid: Missing device UUID.');
  });

  it('needs volume_size for image → volume and blank → volume', async () => {
    expect(message(await boot([{ ...rootOf(), volume_size: undefined }]))).toBe(
      "Block Device Mapping is Invalid: Images with destination_type 'volume' need to have a non-zero size specified",
    );
    expect(message(await boot([rootOf(), { source_type: 'blank', destination_type: 'volume', boot_index: -1 }]))).toBe(
      "Block Device Mapping is Invalid: Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size",
    );
    expect((await boot([{ ...rootOf(), volume_size: 0 }])).status).toBe(400);
  });

  it('allows image → local only as the root of an image boot', async () => {
    const local = { source_type: 'image', destination_type: 'local', uuid: imageId, boot_index: 0 };
    expect(message(await boot([local]))).toBe('Block Device Mapping is Invalid: Mapping image to local is not supported.');
    expect((await boot([local], { imageRef: imageId })).status).toBe(202);
  });

  it('refuses volume_type where Nova does, and before 2.67', async () => {
    expect(message(await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: volumeId, volume_type: 'x' }]))).toBe(
      'Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.',
    );
    expect(message(await boot([{ ...rootOf(), volume_type: 'x' }], {}, '2.66'))).toContain("Additional properties are not allowed ('volume_type' was unexpected)");
  });

  it('refuses unknown keys in a mapping and in the server, and BDM tags at 2.33–2.41', async () => {
    expect(message(await boot([{ ...rootOf(), colour: 'red' }]))).toContain("Additional properties are not allowed ('colour' was unexpected)");
    expect(message(await boot([rootOf()], { colour: 'red' }))).toContain("Additional properties are not allowed ('colour' was unexpected)");
    expect((await boot([{ ...rootOf(), tag: 'root' }], {}, '2.37')).status).toBe(400);
    expect((await boot([{ ...rootOf(), tag: 'root' }], {}, '2.42')).status).toBe(202);
    expect((await boot([{ ...rootOf(), tag: 'bad/tag' }])).status).toBe(400);
  });

  it('checks the sources exist and an existing volume is free', async () => {
    expect(message(await boot([{ ...rootOf(), uuid: MISSING }]))).toBe(`Block Device Mapping is Invalid: failed to get image ${MISSING}.`);
    expect(message(await boot([rootOf(), { source_type: 'snapshot', destination_type: 'volume', uuid: MISSING }]))).toBe(
      `Block Device Mapping is Invalid: failed to get snapshot ${MISSING}.`,
    );
    expect(message(await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: MISSING }]))).toBe(
      `Block Device Mapping is Invalid: failed to get volume ${MISSING}.`,
    );
    const free = emu.seed.volume({ size: 1 }).id;
    const taken = await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: free }]);
    expect(taken.status).toBe(202);
    const again = await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: free }]);
    expect(message(again)).toMatch(new RegExp(`^Invalid volume: volume ${free} is already attached to instances: `));
    const busy = emu.seed.volume({ size: 1, status: 'creating' }).id;
    expect(message(await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: busy }]))).toBe(
      `Invalid volume: Volume ${busy} status must be available or downloading to reserve, but the current status is creating.`,
    );
  });

  it('refuses local blank disks the flavor has no room for', async () => {
    const eph = await boot([rootOf(), { source_type: 'blank', destination_type: 'local', boot_index: -1, volume_size: 1 }]);
    expect(message(eph)).toMatch(/^Ephemeral disks requested are larger than the instance type allows/);
  });

  it('needs imageRef or block devices, an existing flavor and an active image', async () => {
    const none = await api.nova.post<Fault>('/servers', { server: { name: 'x', flavorRef: '1', networks: 'none' } });
    expect(message(none)).toBe('Invalid imageRef provided.');
    expect(message(await boot([rootOf()], { flavorRef: '42' }))).toBe('Invalid flavorRef provided.');
    const queued = await api.glance.post<{ id: string }>('/v2/images', { name: 'empty', disk_format: 'raw', container_format: 'bare' });
    const notActive = await api.nova.post<Fault>('/servers', { server: { name: 'x', flavorRef: '1', imageRef: queued.body.id, networks: 'none' } });
    expect(message(notActive)).toBe(`Image ${queued.body.id} is not active.`);
    expect(message(await boot([rootOf()], { name: ' padded ' }))).toContain('does not match');
    expect(message(await api.nova.post<Fault>('/servers', { server: { flavorRef: '1', imageRef: imageId, networks: 'none' } }))).toContain(
      "'name' is a required property",
    );
  });

  it('needs networks from 2.37 ("none", "auto" or a list), and refuses the strings before', async () => {
    expect(message(await boot([rootOf()], { networks: undefined }))).toContain("'networks' is a required property");
    expect((await boot([rootOf()], { networks: 'auto' })).status).toBe(202);
    expect((await boot([rootOf()], { networks: [{ uuid: '3cb9bc59-5699-4588-a4b1-b87f96708bc6' }] })).status).toBe(202);
    expect((await boot([rootOf()], { networks: [{ uuid: 'not-a-uuid' }] })).status).toBe(400);
    expect((await boot([rootOf()], { networks: 'none' }, '2.36')).status).toBe(400);
    expect((await boot([rootOf()], { networks: undefined }, '2.36')).status).toBe(202);
  });

  it('accepts at most 50 tags, and only from 2.52', async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
    expect((await boot([rootOf()], { tags: tags(50) })).status).toBe(202);
    expect(message(await boot([rootOf()], { tags: tags(51) }))).toContain('is too long');
    expect(message(await boot([rootOf()], { tags: ['a'] }, '2.51'))).toContain("Additional properties are not allowed ('tags' was unexpected)");
  });

  it('refuses mixing legacy and v2 mappings, and a second use of one volume in a request', async () => {
    expect(message(await boot([rootOf()], { block_device_mapping: [] }))).toBe('Using different block_device_mapping syntaxes is not allowed.');
    const free = emu.seed.volume({ size: 1 }).id;
    const twice = await boot([rootOf(), { source_type: 'volume', destination_type: 'volume', uuid: free }, { source_type: 'volume', destination_type: 'volume', uuid: free }]);
    expect(twice.status).toBe(400);
    await eventually(async () => expect((await api.cinder.get<VolumeBody>(`/volumes/${free}`)).body.volume.status).toBe('available'));
  });

  it('builds a server from a snapshot mapping, and fails the build when the snapshot is not usable', async () => {
    const ok = await boot([{ source_type: 'snapshot', destination_type: 'volume', uuid: snapshotId, boot_index: 0 }]);
    expect(ok.status).toBe(202);
    expect(message(await boot([{ source_type: 'snapshot', destination_type: 'volume', uuid: MISSING, boot_index: 0 }]))).toBe(
      `Block Device Mapping is Invalid: failed to get snapshot ${MISSING}.`,
    );
  });
});
