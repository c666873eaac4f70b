import { ApiError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import { empty, json, type AuthedContext, type AuthedHandler } from '../http/context.js';
import { isUuidLike } from '../ids.js';
import { limitParam } from '../pagination.js';
import type { ImageRecord } from '../state.js';
import { isRecord } from '../validate.js';
import type { World } from '../world.js';
import { createImageRecord } from './image-record.js';
import { imageView } from './image-view.js';

/** `[image_format] disk_formats` default (Zed). */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
/** `[image_format] container_formats` default (Zed). */
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
const VISIBILITIES = ['public', 'private', 'shared', 'community'];

/** glance/api/v2/images.py `RequestDeserializer`: attributes a client may not set. */
const READ_ONLY = new Set(['created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id', 'os_hash_algo', 'os_hash_value', 'stores']);
const RESERVED = new Set(['location', 'deleted', 'deleted_at', 'locations']);
const BASE = new Set(['name', 'visibility', 'protected', 'os_hidden', 'min_disk', 'min_ram', 'tags', 'container_format', 'disk_format', 'owner']);
const MAX_TAGS = 128;

/** An image the caller may see, or Glance's 404. */
export function findImage(ctx: AuthedContext, world: World): ImageRecord {
  const id = ctx.params.id ?? '';
  const image = world.store.visibleImage(ctx.auth.projectId, id);
  if (!image) throw notFound(`No image found with ID ${id}`);
  return image;
}

/** An image the caller may change (its own), else 404 or 403 as Glance's policies answer. */
export function ownImage(ctx: AuthedContext, world: World, action: string): ImageRecord {
  const image = findImage(ctx, world);
  if (image.projectId !== ctx.auth.projectId) throw forbidden(`You are not authorized to complete ${action} action.`);
  return image;
}

const schemaError = (detail: string) => badRequest(`Provided object does not match schema 'image': ${detail}`);

/** Checks and applies one base attribute (create and PATCH share the rules). */
function setBase(image: ImageRecord, key: string, value: unknown, creating: boolean): void {
  switch (key) {
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > 255)) throw schemaError(`${JSON.stringify(value)} is not valid under any of the given schemas`);
      image.name = value as string | null;
      return;
    case 'visibility':
      if (typeof value !== 'string' || !VISIBILITIES.includes(value)) throw schemaError(`${JSON.stringify(value)} is not one of ${JSON.stringify(VISIBILITIES)}`);
      // publicize_image is admin-only by default.
      if (value === 'public') throw forbidden('You are not authorized to complete publicize_image action.');
      image.visibility = value;
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') throw schemaError(`${JSON.stringify(value)} is not of type 'boolean'`);
      if (key === 'protected') image.protected = value;
      else image.osHidden = value;
      return;
    case 'min_disk':
    case 'min_ram':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw schemaError(`${JSON.stringify(value)} is not of type 'integer'`);
      if (key === 'min_disk') image.minDisk = value;
      else image.minRam = value;
      return;
    case 'container_format':
    case 'disk_format': {
      const allowed = key === 'disk_format' ? DISK_FORMATS : CONTAINER_FORMATS;
      if (value !== null && (typeof value !== 'string' || !allowed.includes(value))) throw schemaError(`${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`);
      if (!creating && image.status !== 'queued') throw forbidden(`Attribute ${key} can be only replaced for a queued image.`);
      if (key === 'disk_format') image.diskFormat = value as string | null;
      else image.containerFormat = value as string | null;
      return;
    }
    case 'tags':
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && t.length <= 255)) throw schemaError(`${JSON.stringify(value)} is not of type 'array' of strings`);
      if (value.length > MAX_TAGS) throw new ApiError(413, 'Maximum number of tags exceeded');
      image.tags = [...new Set(value as string[])];
      return;
    case 'owner':
      throw forbidden("Owner can't be updated by non admin.");
  }
}

function checkProperty(key: string, value: unknown): string {
  if (READ_ONLY.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
  if (RESERVED.has(key) || key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
  if (key.length > 255) throw badRequest('Custom property should not be greater than 255 characters.');
  if (typeof value !== 'string') throw schemaError(`${JSON.stringify(value)} is not of type 'string'`);
  return value;
}

/** `POST /v2/images` → 201 with the image in `queued`. */
export const createImageHandler: AuthedHandler = (ctx, world) => {
  const body = ctx.body;
  if (!isRecord(body)) throw badRequest('Body expected in request.');
  for (const key of ['direct_url', 'self', 'file', 'schema', 'stores']) if (key in body) throw forbidden(`Attribute '${key}' is read-only.`);
  let id: string | undefined;
  if (body.id !== undefined) {
    if (!isUuidLike(body.id)) throw schemaError(`${JSON.stringify(body.id)} does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'`);
    id = body.id;
    if (world.store.images.has(id)) throw conflict(`Image with identifier ${id} already exists!`);
  }
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'id' || BASE.has(k)) continue;
    properties[k] = checkProperty(k, v);
  }
  const image = createImageRecord(world, {
    projectId: ctx.auth.projectId,
    id,
    name: null,
    visibility: 'shared',
    protected: false,
    osHidden: false,
    tags: [],
    containerFormat: null,
    diskFormat: null,
    minDisk: 0,
    minRam: 0,
    properties,
  });
  try {
    for (const key of BASE) if (key in body) setBase(image, key, body[key], true);
  } catch (err) {
    world.store.images.delete(image.id);
    throw err;
  }
  return json(201, imageView(image), { Location: `${world.baseUrl}/image/v2/images/${image.id}` });
};

/** `GET /v2/images/{id}`. */
export const getImageHandler: AuthedHandler = (ctx, world) => json(200, imageView(findImage(ctx, world)));

/** `DELETE /v2/images/{id}` → 204. */
export const deleteImageHandler: AuthedHandler = (ctx, world) => {
  const image = ownImage(ctx, world, 'delete_image');
  if (image.protected) throw forbidden(`Image ${image.id} is protected and cannot be deleted.`);
  world.store.images.delete(image.id);
  return empty(204);
};

const LIST_KEYS = new Set(['limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'tag', 'visibility', 'member_status', 'size_min', 'size_max', 'os_hidden']);
const CORE_FILTERS: Record<string, (i: ImageRecord) => string | null> = {
  id: (i) => i.id,
  name: (i) => i.name,
  status: (i) => i.status,
  container_format: (i) => i.containerFormat,
  disk_format: (i) => i.diskFormat,
  owner: (i) => i.projectId,
  protected: (i) => String(i.protected),
  min_disk: (i) => String(i.minDisk),
  min_ram: (i) => String(i.minRam),
};
const SORT_KEYS: Record<string, (i: ImageRecord) => string | number> = {
  name: (i) => i.name ?? '',
  status: (i) => i.status,
  container_format: (i) => i.containerFormat ?? '',
  disk_format: (i) => i.diskFormat ?? '',
  size: (i) => i.size ?? -1,
  id: (i) => i.id,
  created_at: (i) => i.seq,
  updated_at: (i) => i.updatedAt,
};

/** `value` or an `in:a,b` list, as Glance's filters accept for core attributes. */
function filterPasses(actual: string | null, wanted: string): boolean {
  if (wanted.startsWith('in:')) return wanted.slice(3).split(',').includes(actual ?? '');
  return actual === wanted;
}

function sortSpec(q: URLSearchParams): { key: string; dir: 'asc' | 'desc' }[] {
  const sort = q.get('sort');
  if (sort !== null) {
    return sort.split(',').map((part) => {
      const [key = '', dir = 'desc'] = part.split(':');
      if (!(key in SORT_KEYS)) throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
      if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
      return { key, dir };
    });
  }
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  if (keys.length === 0) return [{ key: 'created_at', dir: (dirs[0] as 'asc' | 'desc' | undefined) ?? 'desc' }];
  return keys.map((key, n) => {
    if (!(key in SORT_KEYS)) throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
    const dir = dirs[n] ?? dirs[0] ?? 'desc';
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
    return { key, dir };
  });
}

/**
 * `GET /v2/images`: the images the caller sees (its own, public; `community` and `all` on
 * request; hidden ones only with `os_hidden=true`), filtered by core attributes (`in:` lists
 * allowed), `tag` (every one), `size_min`/`size_max` and any extra property; newest first; `limit`
 * (default 25, at most the page size) and `marker`, with `next` = `/v2/images?…&marker=<last id>`.
 */
export const listImagesHandler: AuthedHandler = (ctx, world) => {
  const q = ctx.query;
  const { projectId } = ctx.auth;
  const limit = limitParam(q, world.options.pageSize, 25);
  const visibility = q.get('visibility');
  if (visibility !== null && visibility !== 'all' && !VISIBILITIES.includes(visibility)) {
    throw badRequest(`Invalid visibility value: ${visibility}`);
  }
  const hidden = q.get('os_hidden') === 'true';
  const tags = q.getAll('tag');
  const sizeMin = q.get('size_min');
  const sizeMax = q.get('size_max');
  const visible = [...world.store.images.values()].filter((i) => {
    const mine = i.projectId === projectId;
    // By default: the caller's own images (community ones too) and public ones; others' community
    // images only when asked for.
    if (visibility === null) return mine || i.visibility === 'public';
    if (visibility === 'all') return mine || i.visibility === 'public' || i.visibility === 'community';
    return i.visibility === visibility && (mine || visibility === 'public' || visibility === 'community');
  });
  const matching = visible.filter((i) => {
    if (i.osHidden !== hidden) return false;
    if (!tags.every((t) => i.tags.includes(t))) return false;
    if (sizeMin !== null && (i.size ?? 0) < Number(sizeMin)) return false;
    if (sizeMax !== null && (i.size ?? 0) > Number(sizeMax)) return false;
    for (const [key, value] of q) {
      if (LIST_KEYS.has(key)) continue;
      const core = CORE_FILTERS[key];
      if (core ? !filterPasses(core(i), value) : i.properties[key] !== value) return false;
    }
    return true;
  });
  const spec = sortSpec(q);
  const sorted = [...matching].sort((a, b) => {
    for (const { key, dir } of spec) {
      const get = SORT_KEYS[key];
      if (!get) continue;
      const x = get(a);
      const y = get(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return b.seq - a.seq;
  });
  let start = 0;
  const marker = q.get('marker');
  if (marker !== null) {
    const at = sorted.findIndex((i) => i.id === marker);
    if (at < 0) throw badRequest(`marker ${marker} could not be found.`);
    start = at + 1;
  }
  const page = sorted.slice(start, start + limit);
  const firstQuery = new URLSearchParams(q);
  firstQuery.delete('marker');
  const first = firstQuery.toString();
  const body: Record<string, unknown> = { images: page.map(imageView), first: `/v2/images${first ? `?${first}` : ''}`, schema: '/v2/schemas/images' };
  const last = page[page.length - 1];
  // Glance's controller sets next_marker whenever the page is as long as the limit.
  if (last && page.length === limit) {
    firstQuery.append('marker', last.id);
    body.next = `/v2/images?${firstQuery.toString()}`;
  }
  return json(200, body);
};

/** One JSON-patch path segment (`/name` → `name`, with `~1` and `~0` unescaped). */
function patchPath(path: unknown): string {
  if (typeof path !== 'string' || !/^\/[^/]+$/.test(path)) throw badRequest(`Invalid JSON pointer for this resource: '${String(path)}'`);
  return path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The JSON-patch media types Glance accepts on `PATCH /v2/images/{id}`. */
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

/**
 * `PATCH /v2/images/{id}` (`application/openstack-images-v2.1-json-patch`): `add` (sets, even if
 * present), `replace` (409 for an absent property), `remove` (409 for an absent property, 403 for a
 * core attribute) → 200 with the image.
 */
export const updateImageHandler: AuthedHandler = (ctx, world) => {
  const contentType = (ctx.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!PATCH_TYPES.includes(contentType)) {
    throw new ApiError(415, `The request media type ${contentType || 'None'} is not supported by this server.`, {
      'Accept-Patch': PATCH_TYPES.join(', '),
    });
  }
  const image = ownImage(ctx, world, 'modify_image');
  const ops = ctx.body;
  if (!Array.isArray(ops)) throw badRequest('Request body must be a JSON array of operation objects.');
  // Apply to a copy so a failing operation leaves the image as it was.
  const draft: ImageRecord = { ...image, tags: [...image.tags], properties: { ...image.properties } };
  for (const op of ops) {
    if (!isRecord(op)) throw badRequest('Operations must be JSON objects.');
    const kind = op.op;
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') {
      throw badRequest('Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.');
    }
    const key = patchPath(op.path);
    if (READ_ONLY.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
    if (RESERVED.has(key)) throw forbidden(`Attribute '${key}' is reserved.`);
    if (kind !== 'remove' && !('value' in op)) throw badRequest('Operation objects must contain exactly one member named "value".');
    if (BASE.has(key)) {
      if (kind === 'remove') throw forbidden(`Property ${key} may not be removed.`);
      setBase(draft, key, op.value, false);
    } else if (kind === 'remove') {
      if (draft.properties[key] === undefined) throw conflict(`Property ${key} does not exist.`);
      delete draft.properties[key];
    } else {
      if (kind === 'replace' && draft.properties[key] === undefined) throw conflict(`Property ${key} does not exist.`);
      draft.properties[key] = checkProperty(key, op.value);
    }
  }
  Object.assign(image, draft, { updatedAt: world.now() });
  return json(200, imageView(image));
};

/** `PUT /v2/images/{id}/tags/{tag}` → 204. */
export const addImageTagHandler: AuthedHandler = (ctx, world) => {
  const image = ownImage(ctx, world, 'modify_image');
  const tag = ctx.params.tag ?? '';
  if (tag.length > 255) throw badRequest(`Tag ${tag} is longer than 255 characters`);
  if (!image.tags.includes(tag)) {
    if (image.tags.length >= MAX_TAGS) throw new ApiError(413, 'Maximum number of tags exceeded');
    image.tags.push(tag);
    image.updatedAt = world.now();
  }
  return empty(204);
};

/** `DELETE /v2/images/{id}/tags/{tag}` → 204, 404 when absent. */
export const deleteImageTagHandler: AuthedHandler = (ctx, world) => {
  const image = ownImage(ctx, world, 'modify_image');
  const tag = ctx.params.tag ?? '';
  if (!image.tags.includes(tag)) throw notFound(`Tag ${tag} not found`);
  image.tags = image.tags.filter((t) => t !== tag);
  image.updatedAt = world.now();
  return empty(204);
};
