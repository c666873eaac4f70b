import { badRequest } from '../errors.js';
import { atLeast, type Microversion } from '../microversion.js';
import type { ImageRecord } from '../state.js';
import { asBoolean, asInteger, isRecord, unexpectedKeys } from '../validate.js';
import type { World } from '../world.js';
import { additionalProperties, checkTag, schemaError } from './validation.js';

/** One block device mapping after validation. */
export interface PlannedBdm {
  sourceType: 'image' | 'volume' | 'snapshot' | 'blank';
  destinationType: 'volume' | 'local';
  uuid: string | undefined;
  bootIndex: number | null;
  volumeSize: number | undefined;
  deleteOnTermination: boolean;
  deviceName: string | undefined;
  tag: string | null;
  guestFormat: string | undefined;
}

const SOURCE_TYPES = ['image', 'volume', 'snapshot', 'blank'] as const;
const DEST_TYPES = ['volume', 'local'] as const;
const BASE_KEYS = [
  'source_type', 'destination_type', 'uuid', 'boot_index', 'volume_size', 'delete_on_termination', 'device_name',
  'device_type', 'disk_bus', 'guest_format', 'no_device', 'volume_id', 'snapshot_id', 'image_id',
];

/** `Block Device Mapping is Invalid: <details>` (nova.exception.InvalidBDMFormat). */
const invalidBdm = (details: string) => badRequest(`Block Device Mapping is Invalid: ${details}`);

function allowedKeys(mv: Microversion | undefined): Set<string> {
  const keys = new Set(BASE_KEYS);
  // BDM tags existed at exactly 2.32, disappeared in 2.33–2.41 and came back in 2.42.
  if ((atLeast(mv, '2.32') && !atLeast(mv, '2.33')) || atLeast(mv, '2.42')) keys.add('tag');
  if (atLeast(mv, '2.67')) keys.add('volume_type');
  return keys;
}

/**
 * Checks one `block_device_mapping_v2` entry against Nova's request schema and
 * `BlockDeviceDict.from_api`.
 */
function parseEntry(raw: unknown, imageRefGiven: boolean, mv: Microversion | undefined): PlannedBdm {
  const field = 'block_device_mapping_v2';
  if (!isRecord(raw)) throw schemaError(field, raw, "is not of type 'object'");
  const extra = unexpectedKeys(raw, allowedKeys(mv));
  if (extra.length) throw additionalProperties(field, raw, extra);
  const source = raw.source_type;
  if (!SOURCE_TYPES.includes(source as (typeof SOURCE_TYPES)[number])) {
    throw schemaError('source_type', source, `${JSON.stringify(source)} is not one of ['volume', 'image', 'snapshot', 'blank']`);
  }
  const sourceType = source as PlannedBdm['sourceType'];
  const dest = raw.destination_type ?? (sourceType === 'volume' || sourceType === 'snapshot' ? 'volume' : 'local');
  if (!DEST_TYPES.includes(dest as (typeof DEST_TYPES)[number])) {
    throw schemaError('destination_type', dest, `${JSON.stringify(dest)} is not one of ['local', 'volume']`);
  }
  const destinationType = dest as PlannedBdm['destinationType'];

  let bootIndex: number | null = null;
  if (raw.boot_index !== undefined && raw.boot_index !== null) {
    const n = asInteger(raw.boot_index);
    if (n === undefined) throw schemaError('boot_index', raw.boot_index, "is not valid under any of the given schemas");
    bootIndex = n;
  }
  let volumeSize: number | undefined;
  if (raw.volume_size !== undefined && raw.volume_size !== null) {
    volumeSize = asInteger(raw.volume_size);
    if (volumeSize === undefined || volumeSize < 1) throw schemaError('volume_size', raw.volume_size, 'is less than the minimum of 1');
  }
  let deleteOnTermination = false;
  if (raw.delete_on_termination !== undefined) {
    const b = asBoolean(raw.delete_on_termination);
    if (b === undefined) throw schemaError('delete_on_termination', raw.delete_on_termination, 'is not a valid boolean');
    deleteOnTermination = b;
  }
  if (raw.uuid !== undefined && (typeof raw.uuid !== 'string' || !/^[a-zA-Z0-9._-]{1,255}$/.test(raw.uuid))) {
    throw schemaError('uuid', raw.uuid, "does not match '^[a-zA-Z0-9._-]*$'");
  }
  const uuid = raw.uuid as string | undefined;
  const tag = raw.tag === undefined || raw.tag === null ? null : checkTag('tag', raw.tag);
  const volumeType = raw.volume_type;

  // nova/block_device.py BlockDeviceDict.from_api
  if (sourceType === 'blank' && uuid) throw invalidBdm('Invalid device UUID.');
  if (sourceType !== 'blank' && !uuid) throw invalidBdm('Missing device UUID.');
  if (sourceType === 'image' && destinationType === 'local' && !(imageRefGiven && (bootIndex ?? -1) === 0)) {
    throw invalidBdm('Mapping image to local is not supported.');
  }
  if (destinationType === 'local' && volumeType) throw invalidBdm('Specifying a volume_type with destination_type=local is not supported.');
  if (sourceType === 'volume' && volumeType) throw invalidBdm('Specifying volume type to existing volume is not supported.');

  return {
    sourceType,
    destinationType,
    uuid,
    bootIndex,
    volumeSize,
    deleteOnTermination,
    deviceName: typeof raw.device_name === 'string' ? raw.device_name : undefined,
    tag,
    guestFormat: typeof raw.guest_format === 'string' ? raw.guest_format : undefined,
  };
}

/**
 * The mappings a volume-backed snapshot image carries (`block_device_mapping` property, JSON, with
 * `bdm_v2: True`), as Nova's `createImage` wrote them.
 */
export function imageDefinedBdms(image: ImageRecord | undefined): PlannedBdm[] {
  const raw = image?.properties.block_device_mapping;
  if (raw === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).map((m) => ({
    sourceType: (SOURCE_TYPES.includes(m.source_type as (typeof SOURCE_TYPES)[number]) ? m.source_type : 'snapshot') as PlannedBdm['sourceType'],
    destinationType: m.destination_type === 'local' ? 'local' : 'volume',
    uuid: typeof m.snapshot_id === 'string' ? m.snapshot_id : typeof m.volume_id === 'string' ? m.volume_id : typeof m.image_id === 'string' ? m.image_id : undefined,
    bootIndex: asInteger(m.boot_index) ?? null,
    volumeSize: asInteger(m.volume_size),
    deleteOnTermination: asBoolean(m.delete_on_termination) ?? false,
    deviceName: typeof m.device_name === 'string' ? m.device_name : undefined,
    tag: typeof m.tag === 'string' ? m.tag : null,
    guestFormat: undefined,
  }));
}

/**
 * Parses `block_device_mapping_v2`, merges the image's own mappings (a request root mapping of the
 * image is dropped when the image defines a root, as `_check_and_transform_bdm` does), then runs
 * `_validate_bdm`'s checks that need no side effect.
 *
 * @throws {ApiError} 400 with Nova's messages.
 */
export function planBdms(
  world: World,
  projectId: string,
  raw: unknown,
  image: ImageRecord | undefined,
  mv: Microversion | undefined,
): PlannedBdm[] {
  if (raw !== undefined && !Array.isArray(raw)) throw schemaError('block_device_mapping_v2', raw, "is not of type 'array'");
  const requested = (raw ?? []).map((entry: unknown) => parseEntry(entry, image !== undefined, mv));
  const fromImage = imageDefinedBdms(image);
  let merged = requested;
  if (fromImage.length) {
    const rootInImage = fromImage.some((b) => b.bootIndex === 0);
    const kept = rootInImage ? requested.filter((b) => !(b.bootIndex === 0 && b.sourceType === 'image')) : requested;
    const names = new Set(kept.map((b) => b.deviceName).filter((n): n is string => n !== undefined));
    merged = [...kept, ...fromImage.filter((b) => b.deviceName === undefined || !names.has(b.deviceName))];
  }
  if (merged.length === 0) return merged;

  // _validate_bdm: the bootable indexes, sorted, must be exactly 0, 1, 2…
  const indexes = merged.map((b) => b.bootIndex).filter((i): i is number => i !== null && i >= 0).sort((a, b) => a - b);
  if (indexes.length === 0 || indexes.some((v, i) => v !== i)) {
    throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  }
  for (const b of merged) {
    if (b.sourceType === 'image') {
      const img = world.store.visibleImage(projectId, b.uuid ?? '');
      if (!img && b.uuid !== image?.id) throw invalidBdm(`failed to get image ${b.uuid ?? ''}.`);
      if (b.destinationType === 'volume' && !b.volumeSize) {
        throw badRequest("Block Device Mapping is Invalid: Images with destination_type 'volume' need to have a non-zero size specified");
      }
      if (img && img.status !== 'active') throw badRequest(`Image ${img.id} is not active.`);
      if (img && b.destinationType === 'volume' && b.volumeSize !== undefined) {
        const bytes = b.volumeSize * 1024 ** 3;
        const min = Math.max(img.size ?? 0, img.minDisk * 1024 ** 3);
        if (min > bytes) {
          throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${bytes} bytes, minimum size is ${min} bytes.`);
        }
      }
    } else if (b.sourceType === 'volume') {
      const v = world.store.volume(projectId, b.uuid ?? '');
      if (!v) throw invalidBdm(`failed to get volume ${b.uuid ?? ''}.`);
      if (v.attachment) throw badRequest(`Invalid volume: volume ${v.id} is already attached to instances: ${v.attachment.serverId}`);
      if (v.status !== 'available' && v.status !== 'downloading') {
        throw badRequest(`Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is ${v.status}.`);
      }
    } else if (b.sourceType === 'snapshot') {
      if (!world.store.snapshot(projectId, b.uuid ?? '')) throw invalidBdm(`failed to get snapshot ${b.uuid ?? ''}.`);
    } else if (b.destinationType === 'volume' && !b.volumeSize) {
      throw badRequest("Block Device Mapping is Invalid: Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
    } else if (b.destinationType === 'local') {
      // The flavors have neither ephemeral disk nor swap, so any local blank device is too big.
      throw badRequest(
        b.guestFormat === 'swap'
          ? 'Swap drive requested is larger than instance type allows.'
          : 'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.',
      );
    }
  }
  const volumeIds = merged.filter((b) => b.sourceType === 'volume').map((b) => b.uuid);
  if (new Set(volumeIds).size !== volumeIds.length) throw badRequest('Invalid volume: the same volume cannot be attached twice');
  return merged;
}
