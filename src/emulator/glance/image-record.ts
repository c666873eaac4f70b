import { createHash } from 'node:crypto';
import { newUuid } from '../ids.js';
import type { ImageRecord } from '../state.js';
import type { World } from '../world.js';

/** What a new image starts with. */
export interface NewImageInput {
  projectId: string;
  id?: string | undefined;
  name: string | null;
  visibility: string;
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  containerFormat: string | null;
  diskFormat: string | null;
  minDisk: number;
  minRam: number;
  properties: Record<string, string>;
}

/** The digest of stored image data. */
export interface ImageDigest {
  size: number;
  md5: string;
  sha512: string;
}

/** Creates an image in `queued` (no data yet), as `POST /v2/images` does. */
export function createImageRecord(world: World, input: NewImageInput): ImageRecord {
  const now = world.now();
  const image: ImageRecord = {
    id: input.id ?? newUuid(),
    projectId: input.projectId,
    seq: world.store.nextSeq(),
    name: input.name,
    status: 'queued',
    visibility: input.visibility,
    protected: input.protected,
    osHidden: input.osHidden,
    tags: [...input.tags],
    containerFormat: input.containerFormat,
    diskFormat: input.diskFormat,
    minDisk: input.minDisk,
    minRam: input.minRam,
    size: null,
    checksum: null,
    osHashAlgo: null,
    osHashValue: null,
    properties: { ...input.properties },
    createdAt: now,
    updatedAt: now,
  };
  world.store.images.set(image.id, image);
  return image;
}

/** Marks an image `active` with its data's size and hashes (`checksum` md5, `os_hash_value` sha512). */
export function activateImage(world: World, image: ImageRecord, digest: ImageDigest): void {
  image.status = 'active';
  image.size = digest.size;
  image.checksum = digest.md5;
  image.osHashAlgo = 'sha512';
  image.osHashValue = digest.sha512;
  image.updatedAt = world.now();
}

/** The digest of `data` (for seeded images and zero-length snapshot images). */
export function digestOf(data: Buffer): ImageDigest {
  return {
    size: data.length,
    md5: createHash('md5').update(data).digest('hex'),
    sha512: createHash('sha512').update(data).digest('hex'),
  };
}
