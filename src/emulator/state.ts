/**
 * The emulated cloud's data: plain records in plain Maps keyed by id. Deleted resources are removed
 * from their Map, so memory follows what exists (a thousand guests are a few thousand small
 * objects). Times are epoch milliseconds; each view formats them as its service does.
 */

/** A Keystone project. */
export interface ProjectRecord {
  id: string;
  name: string;
  domainId: string;
}

/** A Keystone user, member of one or more projects. */
export interface UserRecord {
  id: string;
  name: string;
  password: string;
  domainId: string;
  projectIds: string[];
  /** The project an unscoped password request is scoped to, as Keystone does with `default_project_id`. */
  defaultProjectId: string | undefined;
}

/** A Keystone application credential: authenticates as its user, scoped to its project. */
export interface AppCredentialRecord {
  id: string;
  name: string;
  secret: string;
  userId: string;
  projectId: string;
}

/** An issued token. */
export interface TokenRecord {
  value: string;
  userId: string;
  projectId: string | undefined;
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
  applicationCredentialId: string | undefined;
}

/** The attachment of a volume to a server (Cinder's attachment record, one per volume here). */
export interface AttachmentRecord {
  /** Cinder attachment id (Nova's `attachment_id` from 2.89). */
  id: string;
  serverId: string;
  device: string;
  /** Set when the attachment completes (`in-use`). */
  attachedAt: number | undefined;
}

/** A Cinder volume. */
export interface VolumeRecord {
  id: string;
  projectId: string;
  userId: string;
  seq: number;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  metadata: Record<string, string>;
  availabilityZone: string;
  bootable: boolean;
  snapshotId: string | null;
  sourceVolid: string | null;
  backupId: string | null;
  /** `volume_image_metadata` for a volume built from an image. */
  imageMetadata: Record<string, string> | undefined;
  attachment: AttachmentRecord | undefined;
  /** The status to return to after a transient one (`backing-up`, `extending`…). */
  previousStatus: string | undefined;
  createdAt: number;
  updatedAt: number | null;
}

/** A Cinder snapshot. */
export interface SnapshotRecord {
  id: string;
  projectId: string;
  userId: string;
  seq: number;
  volumeId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: string;
  metadata: Record<string, string>;
  createdAt: number;
  updatedAt: number | null;
}

/** A Cinder backup. */
export interface BackupRecord {
  id: string;
  projectId: string;
  userId: string;
  seq: number;
  volumeId: string;
  snapshotId: string | null;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  failReason: string | null;
  container: string | null;
  isIncremental: boolean;
  metadata: Record<string, string>;
  availabilityZone: string;
  createdAt: number;
  updatedAt: number | null;
  dataTimestamp: number;
}

/** One block device mapping of a server (Nova's BDM), always backed by a Cinder volume here. */
export interface BdmRecord {
  /** Nova's `bdm_uuid` (2.89+). */
  uuid: string;
  volumeId: string;
  bootIndex: number | null;
  deleteOnTermination: boolean;
  device: string;
  tag: string | null;
  sourceType: string;
  /** True for volumes Nova created for this server (image, snapshot and blank sources). */
  createdByNova: boolean;
}

/** A Nova server. */
export interface ServerRecord {
  id: string;
  projectId: string;
  userId: string;
  seq: number;
  name: string;
  description: string | null;
  status: string;
  vmState: string;
  taskState: string | null;
  powerState: number;
  metadata: Record<string, string>;
  tags: string[];
  flavorId: string;
  /** The image the server was booted with, or `''` when it booted from a volume. */
  imageId: string;
  bdms: BdmRecord[];
  availabilityZone: string;
  keyName: string | null;
  hostname: string;
  /** Fixed IPv4 addresses on the emulated `private` network (none with `networks: "none"`). */
  addresses: string[];
  securityGroups: string[];
  configDrive: boolean;
  fault: { code: number; message: string; created: number } | undefined;
  createdAt: number;
  updatedAt: number;
  launchedAt: number | undefined;
  /** The build timer has fired: the server turns ACTIVE as soon as its volumes are ready. */
  buildTimerDone: boolean;
}

/** A Glance image. */
export interface ImageRecord {
  id: string;
  /** The owning project (`owner`). */
  projectId: string;
  seq: number;
  name: string | null;
  status: string;
  visibility: string;
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  containerFormat: string | null;
  diskFormat: string | null;
  minDisk: number;
  minRam: number;
  size: number | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  /** Extra properties: Glance keeps them as top-level string attributes. */
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/** Every record of the emulated cloud. */
export class Store {
  readonly projects = new Map<string, ProjectRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly appCredentials = new Map<string, AppCredentialRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly servers = new Map<string, ServerRecord>();
  readonly volumes = new Map<string, VolumeRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly backups = new Map<string, BackupRecord>();
  readonly images = new Map<string, ImageRecord>();
  private seq = 0;
  private ipCounter = 10;

  /**
   * A creation sequence number. Lists sort newest first as the services do (`created_at` desc);
   * the sequence breaks ties between resources created in the same millisecond.
   */
  nextSeq(): number {
    return ++this.seq;
  }

  /** The next free fixed IP on the emulated private network. */
  nextIp(): string {
    const n = this.ipCounter++;
    return `10.0.${Math.floor(n / 250)}.${(n % 250) + 2}`;
  }

  /** A volume owned by `projectId`, or undefined (another project's volume is invisible). */
  volume(projectId: string, id: string): VolumeRecord | undefined {
    const v = this.volumes.get(id);
    return v && v.projectId === projectId ? v : undefined;
  }

  /** A snapshot owned by `projectId`. */
  snapshot(projectId: string, id: string): SnapshotRecord | undefined {
    const s = this.snapshots.get(id);
    return s && s.projectId === projectId ? s : undefined;
  }

  /** A backup owned by `projectId`. */
  backup(projectId: string, id: string): BackupRecord | undefined {
    const b = this.backups.get(id);
    return b && b.projectId === projectId ? b : undefined;
  }

  /** A server owned by `projectId`. */
  server(projectId: string, id: string): ServerRecord | undefined {
    const s = this.servers.get(id);
    return s && s.projectId === projectId ? s : undefined;
  }

  /** An image `projectId` may see: its own, public or community ones. */
  visibleImage(projectId: string, id: string): ImageRecord | undefined {
    const i = this.images.get(id);
    if (!i) return undefined;
    return i.projectId === projectId || i.visibility === 'public' || i.visibility === 'community' ? i : undefined;
  }

  /** The snapshots taken of a volume (any status). */
  snapshotsOf(volumeId: string): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    for (const s of this.snapshots.values()) if (s.volumeId === volumeId) out.push(s);
    return out;
  }

  /** Drops tokens that expired, so a long benchmark does not accumulate them. */
  purgeExpiredTokens(now: number): void {
    for (const [k, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(k);
  }
}
