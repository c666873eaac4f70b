import type { ImageRecord } from '../state.js';
import { glanceTime } from '../time.js';

/**
 * The image as Glance v2 shows it: core attributes, then every extra property as a top-level
 * string. Links (`self`, `file`, `schema`) are relative to the API root, like the real ones.
 */
export function imageView(i: ImageRecord): Record<string, unknown> {
  return {
    status: i.status,
    name: i.name,
    tags: [...i.tags],
    container_format: i.containerFormat,
    created_at: glanceTime(i.createdAt),
    disk_format: i.diskFormat,
    updated_at: glanceTime(i.updatedAt),
    visibility: i.visibility,
    self: `/v2/images/${i.id}`,
    min_disk: i.minDisk,
    protected: i.protected,
    id: i.id,
    file: `/v2/images/${i.id}/file`,
    checksum: i.checksum,
    os_hash_algo: i.osHashAlgo,
    os_hash_value: i.osHashValue,
    os_hidden: i.osHidden,
    owner: i.projectId,
    size: i.size,
    min_ram: i.minRam,
    schema: '/v2/schemas/image',
    virtual_size: null,
    // The backend holding the data, once there is data (Glance's multi-store field).
    ...(i.status === 'active' ? { stores: 'fs' } : {}),
    ...i.properties,
  };
}
