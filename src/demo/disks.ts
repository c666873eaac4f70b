/**
 * The simulated contents of the demo's Cinder volumes. There is no real VM and no real disk: what a
 * volume "holds" is tracked here, keyed by the cloud's own volume, snapshot and image ids, and it
 * follows the cloud's operations the way block storage would:
 *
 * - a volume built from an image holds a copy of the image (the software image: an OS disk whose
 *   ladder state directory is empty; the startup image: the initial application data);
 * - a snapshot holds a copy of its volume at the moment it was taken;
 * - a volume built from a snapshot holds a copy of the snapshot.
 *
 * A boot volume is a real directory in a temp dir (the agent's `FileStateStore` writes its ladder
 * state file there, so the file physically lives "on the boot volume"); copying a boot volume copies
 * the directory. A data volume is a small record (the application's data and whether it is corrupt).
 * Where a volume came from is asked of the {@link Hardware}: the emulator's inspector, or the real
 * cloud's volume record.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The application's data on a data volume. */
export interface DataDisk {
  kind: 'data';
  /** The last business day written. */
  day: number;
  /** Records written so far. */
  records: number;
  /** A bad record sits in the data: unnoticed until it is processed, then it corrupts the data. */
  latentDefect: boolean;
  /** The data is corrupt: the application cannot start on it. */
  corrupt: boolean;
  /** How this copy came to be, for the output (`startup image`, `snapshot 1a2b…`). */
  origin: string;
}

/** An OS disk: a directory holding, among the rest, the agent's ladder state directory. */
export interface BootDisk {
  kind: 'boot';
  /** The directory standing for the volume's filesystem. */
  dir: string;
  origin: string;
}

export type DiskContent = DataDisk | BootDisk;

/** Where a volume's blocks came from, as the cloud records it. */
export interface VolumeOrigin {
  snapshotId?: string | undefined;
  imageId?: string | undefined;
  sourceVolumeId?: string | undefined;
}

/** A volume attached to a server, as the hypervisor presents it to the guest. */
export interface AttachedDisk {
  volumeId: string;
  /** The boot disk (boot index 0 / the first device). */
  boot: boolean;
}

/**
 * What the simulated VM sees of its hardware: its attached disks, and the provenance of a disk's
 * blocks. On the emulator this reads the emulator's state (no API call); on a real cloud it reads the
 * cloud through a connection of its own, so these reads are not counted as the approaches' API calls.
 */
export interface Hardware {
  attachedDisks(serverId: string): Promise<AttachedDisk[]>;
  volumeOrigin(volumeId: string): Promise<VolumeOrigin>;
}

/** Where the ladder state lives on a boot volume (as `/var/lib/dataswap` would on the guest). */
export const STATE_DIR_ON_BOOT = join('var', 'lib', 'dataswap');

/** The contents of every volume, snapshot and image the demo touches. */
export class DiskStore {
  private readonly volumes = new Map<string, DiskContent>();
  private readonly snapshots = new Map<string, DiskContent>();
  private readonly images = new Map<string, DiskContent>();
  private seq = 0;

  /** @param root a temp directory for the boot volumes' directories. */
  constructor(
    private readonly root: string,
    private readonly hardware: Hardware,
  ) {}

  /** Registers the software image: an OS disk with an empty ladder state directory. */
  addSoftwareImage(imageId: string): void {
    const dir = this.newDir('image');
    mkdirSync(join(dir, STATE_DIR_ON_BOOT), { recursive: true });
    this.images.set(imageId, { kind: 'boot', dir, origin: 'the software image' });
  }

  /** Registers the startup image: the application's initial data. */
  addStartupImage(imageId: string): void {
    this.images.set(imageId, {
      kind: 'data',
      day: 0,
      records: 0,
      latentDefect: false,
      corrupt: false,
      origin: 'the startup image',
    });
  }

  /** What the volume holds; derived from its origin the first time it is read. */
  async content(volumeId: string): Promise<DiskContent> {
    const known = this.volumes.get(volumeId);
    if (known) return known;
    const origin = await this.hardware.volumeOrigin(volumeId);
    const source = origin.snapshotId
      ? this.snapshots.get(origin.snapshotId)
      : origin.imageId
        ? this.images.get(origin.imageId)
        : origin.sourceVolumeId
          ? await this.content(origin.sourceVolumeId)
          : undefined;
    if (!source)
      throw new Error(`volume ${volumeId} holds nothing the demo knows (${JSON.stringify(origin)})`);
    const content = this.copy(
      source,
      origin.snapshotId ? `snapshot ${short(origin.snapshotId)}` : source.origin,
    );
    this.volumes.set(volumeId, content);
    return content;
  }

  /** The volume's content if it was read already. */
  peek(volumeId: string): DiskContent | undefined {
    return this.volumes.get(volumeId);
  }

  /** The data volume's content (read already). */
  data(volumeId: string): DataDisk {
    const c = this.volumes.get(volumeId);
    if (c?.kind !== 'data') throw new Error(`volume ${volumeId} is not a data volume the guest has read`);
    return c;
  }

  /** The snapshot's content, if it was recorded. */
  snapshotContent(snapshotId: string): DiskContent | undefined {
    return this.snapshots.get(snapshotId);
  }

  /**
   * Records what `snapshotId` holds: a copy of the volume as it is now. Called when the snapshot is
   * taken (the guest writes nothing while it is being taken).
   */
  recordSnapshot(snapshotId: string, volumeId: string): void {
    const c = this.volumes.get(volumeId);
    if (!c)
      throw new Error(`snapshot ${snapshotId} of volume ${volumeId}, whose content the demo never read`);
    this.snapshots.set(snapshotId, this.copy(c, `snapshot ${short(snapshotId)}`));
  }

  /** Records a snapshot from a copy taken earlier (see {@link copyOf}). */
  recordSnapshotFrom(snapshotId: string, content: DiskContent): void {
    this.snapshots.set(snapshotId, content);
  }

  /** A copy of the volume as it is now, to be recorded as a snapshot once its id is known. */
  copyOf(volumeId: string): DiskContent {
    const c = this.volumes.get(volumeId);
    if (!c) throw new Error(`volume ${volumeId}, whose content the demo never read`);
    return this.copy(c, c.origin);
  }

  private copy(c: DiskContent, origin: string): DiskContent {
    if (c.kind === 'data') return { ...c, origin };
    const dir = this.newDir('volume');
    cpSync(c.dir, dir, { recursive: true });
    return { kind: 'boot', dir, origin };
  }

  private newDir(kind: string): string {
    const dir = join(this.root, `${kind}-${++this.seq}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/** A short id for the output. */
export function short(id: string): string {
  return id.slice(0, 8);
}

/** `day 2, 200 records, corrupt`. */
export function describeData(d: DataDisk): string {
  const flags = [
    d.corrupt ? 'corrupt' : undefined,
    !d.corrupt && d.latentDefect ? 'carries the bad record' : undefined,
  ].filter(Boolean);
  return `day ${d.day}, ${d.records} records${flags.length ? `, ${flags.join(', ')}` : ''}`;
}
