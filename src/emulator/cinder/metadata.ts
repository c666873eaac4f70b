import { badRequest, notFound } from '../errors.js';
import { empty, json, type AuthedContext, type AuthedHandler } from '../http/context.js';
import { asStringMap, isRecord } from '../validate.js';
import type { World } from '../world.js';

/** A resource whose metadata the handlers edit. */
export interface MetadataOwner {
  id: string;
  metadata: Record<string, string>;
  updatedAt: number | null;
}

/** Finds the resource of the request (throwing its 404) and names it for messages. */
export type OwnerLookup = (ctx: AuthedContext, world: World) => { owner: MetadataOwner; label: string };

/** Cinder's metadata rules: keys 1–255 characters, values strings of at most 255. */
export function checkMetadata(value: unknown, field = 'metadata'): Record<string, string> {
  const map = asStringMap(value);
  if (!map) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'object' of strings`);
  for (const [k, v] of Object.entries(map)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Metadata property key ${k} is not between 1 and 255 characters`);
    if (v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Metadata property value for key ${k} is longer than 255 characters`);
  }
  return map;
}

function bodyMetadata(body: unknown, key: 'metadata' | 'meta'): Record<string, string> {
  if (!isRecord(body) || !(key in body)) throw badRequest(`Malformed request body: '${key}' is a required property`);
  return checkMetadata(body[key], key);
}

/**
 * The six metadata calls of a Cinder resource (`…/metadata` GET/POST/PUT, `…/metadata/{key}`
 * GET/PUT/DELETE), as cinder/api/v3 volume and snapshot metadata controllers answer them.
 */
export function metadataHandlers(lookup: OwnerLookup): {
  list: AuthedHandler;
  merge: AuthedHandler;
  replace: AuthedHandler;
  get: AuthedHandler;
  set: AuthedHandler;
  remove: AuthedHandler;
} {
  const touch = (world: World, owner: MetadataOwner): void => {
    owner.updatedAt = world.now();
  };
  const keyOf = (ctx: AuthedContext): string => ctx.params.key ?? '';
  const missing = (label: string, id: string, key: string) => notFound(`${label} ${id} has no metadata with key ${key}.`);
  return {
    list: (ctx, world) => json(200, { metadata: { ...lookup(ctx, world).owner.metadata } }),
    merge: (ctx, world) => {
      const { owner } = lookup(ctx, world);
      Object.assign(owner.metadata, bodyMetadata(ctx.body, 'metadata'));
      touch(world, owner);
      return json(200, { metadata: { ...owner.metadata } });
    },
    replace: (ctx, world) => {
      const { owner } = lookup(ctx, world);
      owner.metadata = { ...bodyMetadata(ctx.body, 'metadata') };
      touch(world, owner);
      return json(200, { metadata: { ...owner.metadata } });
    },
    get: (ctx, world) => {
      const { owner, label } = lookup(ctx, world);
      const key = keyOf(ctx);
      const value = owner.metadata[key];
      if (value === undefined) throw missing(label, owner.id, key);
      return json(200, { meta: { [key]: value } });
    },
    set: (ctx, world) => {
      const { owner } = lookup(ctx, world);
      const meta = bodyMetadata(ctx.body, 'meta');
      const entries = Object.entries(meta);
      if (entries.length > 1) throw badRequest('Request body contains too many items');
      const [entry] = entries;
      if (!entry || entry[0] !== keyOf(ctx)) throw badRequest('Request body and URI mismatch');
      owner.metadata[entry[0]] = entry[1];
      touch(world, owner);
      return json(200, { meta: { [entry[0]]: entry[1] } });
    },
    remove: (ctx, world) => {
      const { owner, label } = lookup(ctx, world);
      const key = keyOf(ctx);
      if (owner.metadata[key] === undefined) throw missing(label, owner.id, key);
      delete owner.metadata[key];
      touch(world, owner);
      // Cinder answers 200 with an empty body here, not 204.
      return empty(200);
    },
  };
}
