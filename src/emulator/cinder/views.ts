import { atLeast, type Microversion } from '../microversion.js';
import type { BackupRecord, SnapshotRecord, VolumeRecord } from '../state.js';
import { cinderTime } from '../time.js';
import type { World } from '../world.js';

/** The id of the only volume type, `__DEFAULT__` (Cinder creates it at install). */
export const DEFAULT_VOLUME_TYPE_ID = '5fed9d7c-401d-46e2-8e80-f30c70cb7e1d';
/** The volume type's name. */
export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';

function links(world: World, projectId: string, collection: string, id: string): unknown[] {
  return [
    { href: `${world.baseUrl}/volume/v3/${projectId}/${collection}/${id}`, rel: 'self' },
    { href: `${world.baseUrl}/volume/${projectId}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

/**
 * The detailed volume view (cinder/api/v3/views/volumes.py), with the fields each microversion
 * adds. Attachments are listed once attached, as Cinder lists only `attached` attachments.
 */
export function volumeView(world: World, v: VolumeRecord, mv: Microversion | undefined): Record<string, unknown> {
  const a = v.attachment;
  const out: Record<string, unknown> = {
    attachments:
      a && a.attachedAt !== undefined
        ? [
            {
              id: v.id,
              attachment_id: a.id,
              volume_id: v.id,
              server_id: a.serverId,
              host_name: null,
              device: a.device,
              attached_at: cinderTime(a.attachedAt),
            },
          ]
        : [],
    availability_zone: v.availabilityZone,
    bootable: String(v.bootable),
    consistencygroup_id: null,
    created_at: cinderTime(v.createdAt),
    description: v.description,
    encrypted: false,
    id: v.id,
    links: links(world, v.projectId, 'volumes', v.id),
    metadata: { ...v.metadata },
    migration_status: null,
    multiattach: false,
    name: v.name,
    'os-vol-tenant-attr:tenant_id': v.projectId,
    replication_status: null,
    size: v.size,
    snapshot_id: v.snapshotId,
    source_volid: v.sourceVolid,
    status: v.status,
    updated_at: v.updatedAt === null ? null : cinderTime(v.updatedAt),
    user_id: v.userId,
    volume_type: DEFAULT_VOLUME_TYPE,
  };
  if (v.imageMetadata) out.volume_image_metadata = { ...v.imageMetadata };
  if (atLeast(mv, '3.13')) out.group_id = null;
  if (atLeast(mv, '3.21')) out.provider_id = null;
  if (atLeast(mv, '3.48')) {
    out.service_uuid = null;
    // From 3.69 Cinder may report null when the backend does not say.
    out.shared_targets = atLeast(mv, '3.69') ? null : true;
  }
  if (atLeast(mv, '3.61')) out.cluster_name = null;
  if (atLeast(mv, '3.63')) out.volume_type_id = DEFAULT_VOLUME_TYPE_ID;
  if (atLeast(mv, '3.65')) out.consumes_quota = true;
  return out;
}

/** `GET /volumes` (without `detail`): id, name and links. */
export function volumeSummary(world: World, v: VolumeRecord): Record<string, unknown> {
  return { id: v.id, links: links(world, v.projectId, 'volumes', v.id), name: v.name };
}

/** The snapshot view; `detail` adds the `os-extended-snapshot-attributes` fields. */
export function snapshotView(s: SnapshotRecord, mv: Microversion | undefined, detail = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: cinderTime(s.createdAt),
    description: s.description,
    id: s.id,
    metadata: { ...s.metadata },
    name: s.name,
    size: s.size,
    status: s.status,
    updated_at: s.updatedAt === null ? null : cinderTime(s.updatedAt),
    volume_id: s.volumeId,
  };
  if (detail) {
    out['os-extended-snapshot-attributes:progress'] = s.progress;
    out['os-extended-snapshot-attributes:project_id'] = s.projectId;
  }
  if (atLeast(mv, '3.14')) out.group_snapshot_id = null;
  if (atLeast(mv, '3.41')) out.user_id = s.userId;
  if (atLeast(mv, '3.65')) out.consumes_quota = true;
  return out;
}

/** The detailed backup view (per the Zed API reference sample). */
export function backupView(world: World, b: BackupRecord, mv: Microversion | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    availability_zone: b.availabilityZone,
    container: b.container,
    created_at: cinderTime(b.createdAt),
    description: b.description,
    fail_reason: b.failReason,
    id: b.id,
    links: links(world, b.projectId, 'backups', b.id),
    name: b.name,
    object_count: b.status === 'available' ? 1 : 0,
    size: b.size,
    updated_at: b.updatedAt === null ? null : cinderTime(b.updatedAt),
    data_timestamp: cinderTime(b.dataTimestamp),
    snapshot_id: b.snapshotId,
    status: b.status,
    volume_id: b.volumeId,
    is_incremental: b.isIncremental,
    has_dependent_backups: false,
  };
  if (atLeast(mv, '3.18')) out['os-backup-project-attr:project_id'] = b.projectId;
  if (atLeast(mv, '3.43')) out.metadata = { ...b.metadata };
  if (atLeast(mv, '3.56')) out.user_id = b.userId;
  return out;
}

/** `GET /backups` (without `detail`). */
export function backupSummary(world: World, b: BackupRecord): Record<string, unknown> {
  return { id: b.id, links: links(world, b.projectId, 'backups', b.id), name: b.name };
}
