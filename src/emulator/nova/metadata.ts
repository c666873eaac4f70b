import { badRequest, forbidden, notFound } from '../errors.js';
import { empty, json, type AuthedHandler } from '../http/context.js';
import { isRecord } from '../validate.js';
import { MAX_METADATA_ITEMS } from './server-create.js';
import { findServer, requireState } from './servers.js';
import { checkNovaMetadata, schemaError } from './validation.js';

/** `update_instance_metadata`'s states (nova/compute/api.py). */
const EDITABLE = ['active', 'paused', 'suspended', 'stopped'];

function bodyOf(body: unknown, key: 'metadata' | 'meta'): Record<string, string> {
  if (!isRecord(body) || !(key in body)) throw schemaError('body', body, `'${key}' is a required property`);
  return checkNovaMetadata(key, body[key]);
}

function checkQuota(metadata: Record<string, string>): void {
  if (Object.keys(metadata).length > MAX_METADATA_ITEMS) throw forbidden(`Maximum number of metadata items exceeds ${MAX_METADATA_ITEMS}`);
}

/** `GET /servers/{id}/metadata`. */
export const listMetadataHandler: AuthedHandler = (ctx, world) => json(200, { metadata: { ...findServer(ctx, world).metadata } });

/** `PUT /servers/{id}/metadata`: replaces all of it. */
export const replaceMetadataHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const metadata = bodyOf(ctx.body, 'metadata');
  requireState(s, 'update metadata', EDITABLE);
  checkQuota(metadata);
  s.metadata = { ...metadata };
  s.updatedAt = world.now();
  return json(200, { metadata: { ...s.metadata } });
};

/** `POST /servers/{id}/metadata`: merges into it. */
export const mergeMetadataHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const metadata = bodyOf(ctx.body, 'metadata');
  requireState(s, 'update metadata', EDITABLE);
  const merged = { ...s.metadata, ...metadata };
  checkQuota(merged);
  s.metadata = merged;
  s.updatedAt = world.now();
  return json(200, { metadata: { ...s.metadata } });
};

/** `GET /servers/{id}/metadata/{key}`. */
export const getMetadataItemHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const key = ctx.params.key ?? '';
  const value = s.metadata[key];
  if (value === undefined) throw notFound('Metadata item was not found');
  return json(200, { meta: { [key]: value } });
};

/** `PUT /servers/{id}/metadata/{key}` with `{"meta": {key: value}}`. */
export const setMetadataItemHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const meta = bodyOf(ctx.body, 'meta');
  const entries = Object.entries(meta);
  if (entries.length > 1) throw badRequest('Request body contains too many items');
  const [entry] = entries;
  if (!entry || entry[0] !== ctx.params.key) throw badRequest('Request body and URI mismatch');
  requireState(s, 'update metadata', EDITABLE);
  checkQuota({ ...s.metadata, [entry[0]]: entry[1] });
  s.metadata[entry[0]] = entry[1];
  s.updatedAt = world.now();
  return json(200, { meta: { [entry[0]]: entry[1] } });
};

/** `DELETE /servers/{id}/metadata/{key}` → 204. */
export const deleteMetadataItemHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const key = ctx.params.key ?? '';
  if (s.metadata[key] === undefined) throw notFound('Metadata item was not found');
  requireState(s, 'delete metadata', EDITABLE);
  delete s.metadata[key];
  s.updatedAt = world.now();
  return empty(204);
};
