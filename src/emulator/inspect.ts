import type { BackupRecord, ImageRecord, ServerRecord, SnapshotRecord, Store, VolumeRecord } from './state.js';

/** A volume as the inspection API shows it (a copy: changing it changes nothing). */
export interface InspectedVolume {
  id: string;
  projectId: string;
  name: string | null;
  status: string;
  size: number;
  metadata: Record<string, string>;
  bootable: boolean;
  /** The server it is attached (or reserved) to. */
  attachedTo: string | undefined;
  device: string | undefined;
  snapshotId: string | null;
  sourceVolumeId: string | null;
  /** The image it was built from. */
  imageId: string | undefined;
  createdAt: Date;
}

/** A snapshot as the inspection API shows it. */
export interface InspectedSnapshot {
  id: string;
  projectId: string;
  volumeId: string;
  name: string | null;
  status: string;
  size: number;
  metadata: Record<string, string>;
  createdAt: Date;
}

/** A server as the inspection API shows it. */
export interface InspectedServer {
  id: string;
  projectId: string;
  name: string;
  status: string;
  vmState: string;
  taskState: string | null;
  metadata: Record<string, string>;
  tags: string[];
  flavorId: string;
  /** `''` when it booted from a volume. */
  imageId: string;
  volumes: { volumeId: string; device: string; bootIndex: number | null; deleteOnTermination: boolean; tag: string | null }[];
  fault: { code: number; message: string } | undefined;
  createdAt: Date;
}

/** An image as the inspection API shows it. */
export interface InspectedImage {
  id: string;
  projectId: string;
  name: string | null;
  status: string;
  visibility: string;
  size: number | null;
  checksum: string | null;
  tags: string[];
  properties: Record<string, string>;
  createdAt: Date;
}

/** A backup as the inspection API shows it. */
export interface InspectedBackup {
  id: string;
  projectId: string;
  volumeId: string;
  name: string | null;
  status: string;
  size: number;
  metadata: Record<string, string>;
  createdAt: Date;
}

/** Which records to list: all, or one project's (by name or id). */
export interface InspectFilter {
  project?: string;
}

/**
 * Read-only views of the emulated cloud, for tests ("nothing left behind") and the demo. Lists
 * come oldest first.
 */
export interface EmulatorInspector {
  servers(filter?: InspectFilter): InspectedServer[];
  volumes(filter?: InspectFilter): InspectedVolume[];
  snapshots(filter?: InspectFilter): InspectedSnapshot[];
  images(filter?: InspectFilter): InspectedImage[];
  backups(filter?: InspectFilter): InspectedBackup[];
  /** How many of each exist (all projects), and the live tokens. */
  counts(): { servers: number; volumes: number; snapshots: number; images: number; backups: number; tokens: number };
  /** Status transitions still waiting on their timers. */
  readonly pendingTransitions: number;
}

/** A volume record as the inspection API shows it. */
export function toInspectedVolume(v: VolumeRecord): InspectedVolume {
  return {
    id: v.id,
    projectId: v.projectId,
    name: v.name,
    status: v.status,
    size: v.size,
    metadata: { ...v.metadata },
    bootable: v.bootable,
    attachedTo: v.attachment?.serverId,
    device: v.attachment?.device,
    snapshotId: v.snapshotId,
    sourceVolumeId: v.sourceVolid,
    imageId: v.imageMetadata?.image_id,
    createdAt: new Date(v.createdAt),
  };
}

function toSnapshot(s: SnapshotRecord): InspectedSnapshot {
  return { id: s.id, projectId: s.projectId, volumeId: s.volumeId, name: s.name, status: s.status, size: s.size, metadata: { ...s.metadata }, createdAt: new Date(s.createdAt) };
}

function toServer(s: ServerRecord): InspectedServer {
  return {
    id: s.id,
    projectId: s.projectId,
    name: s.name,
    status: s.status,
    vmState: s.vmState,
    taskState: s.taskState,
    metadata: { ...s.metadata },
    tags: [...s.tags],
    flavorId: s.flavorId,
    imageId: s.imageId,
    volumes: s.bdms.map((b) => ({ volumeId: b.volumeId, device: b.device, bootIndex: b.bootIndex, deleteOnTermination: b.deleteOnTermination, tag: b.tag })),
    fault: s.fault ? { code: s.fault.code, message: s.fault.message } : undefined,
    createdAt: new Date(s.createdAt),
  };
}

/** An image record as the inspection API shows it. */
export function toInspectedImage(i: ImageRecord): InspectedImage {
  return {
    id: i.id,
    projectId: i.projectId,
    name: i.name,
    status: i.status,
    visibility: i.visibility,
    size: i.size,
    checksum: i.checksum,
    tags: [...i.tags],
    properties: { ...i.properties },
    createdAt: new Date(i.createdAt),
  };
}

function toBackup(b: BackupRecord): InspectedBackup {
  return { id: b.id, projectId: b.projectId, volumeId: b.volumeId, name: b.name, status: b.status, size: b.size, metadata: { ...b.metadata }, createdAt: new Date(b.createdAt) };
}

/** Builds the inspector over a store. */
export function createInspector(store: Store, pending: () => number): EmulatorInspector {
  const projectIdOf = (filter: InspectFilter | undefined): string | undefined => {
    if (filter?.project === undefined) return undefined;
    for (const p of store.projects.values()) if (p.name === filter.project || p.id === filter.project) return p.id;
    return `unknown:${filter.project}`;
  };
  const list = <R extends { projectId: string; seq: number }, T>(records: Iterable<R>, map: (r: R) => T, filter?: InspectFilter): T[] => {
    const pid = projectIdOf(filter);
    return [...records].filter((r) => pid === undefined || r.projectId === pid).sort((a, b) => a.seq - b.seq).map(map);
  };
  return {
    servers: (f) => list(store.servers.values(), toServer, f),
    volumes: (f) => list(store.volumes.values(), toInspectedVolume, f),
    snapshots: (f) => list(store.snapshots.values(), toSnapshot, f),
    images: (f) => list(store.images.values(), toInspectedImage, f),
    backups: (f) => list(store.backups.values(), toBackup, f),
    counts: () => ({
      servers: store.servers.size,
      volumes: store.volumes.size,
      snapshots: store.snapshots.size,
      images: store.images.size,
      backups: store.backups.size,
      tokens: store.tokens.size,
    }),
    get pendingTransitions() {
      return pending();
    },
  };
}
