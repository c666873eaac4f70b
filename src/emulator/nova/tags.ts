import { badRequest, notFound } from '../errors.js';
import { empty, json, type AuthedContext, type AuthedHandler } from '../http/context.js';
import { atLeast } from '../microversion.js';
import type { ServerRecord } from '../state.js';
import { isRecord } from '../validate.js';
import type { World } from '../world.js';
import { findServer, requireState } from './servers.js';
import { checkTag, schemaError } from './validation.js';

/** Nova's `MAX_TAG_COUNT`. */
const MAX_TAGS = 50;
/** server_tags.py `_check_instance_in_valid_state`: these vm states, whatever the task. */
const EDITABLE = ['active', 'paused', 'suspended', 'stopped'];

/** Tags arrived in 2.26: below, these URLs do not exist. */
function taggedServer(ctx: AuthedContext, world: World): ServerRecord {
  if (!atLeast(ctx.microversion, '2.26')) throw notFound();
  return findServer(ctx, world);
}

const tooMany = () => badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);

/** `GET /servers/{id}/tags`. */
export const listTagsHandler: AuthedHandler = (ctx, world) => json(200, { tags: [...taggedServer(ctx, world).tags] });

/** `PUT /servers/{id}/tags` with `{"tags": [...]}`: replaces them. */
export const replaceTagsHandler: AuthedHandler = (ctx, world) => {
  const s = taggedServer(ctx, world);
  if (!isRecord(ctx.body) || !Array.isArray(ctx.body.tags)) throw schemaError('body', ctx.body, "'tags' is a required property");
  const tags = [...new Set(ctx.body.tags.map((t) => checkTag('tags', t)))];
  if (tags.length > MAX_TAGS) throw tooMany();
  requireState(s, 'update tags', EDITABLE, 'any');
  s.tags = tags;
  s.updatedAt = world.now();
  return json(200, { tags: [...s.tags] });
};

/** `DELETE /servers/{id}/tags` → 204. */
export const deleteTagsHandler: AuthedHandler = (ctx, world) => {
  const s = taggedServer(ctx, world);
  requireState(s, 'delete tags', EDITABLE, 'any');
  s.tags = [];
  s.updatedAt = world.now();
  return empty(204);
};

/** `GET /servers/{id}/tags/{tag}` → 204 when present. */
export const checkTagHandler: AuthedHandler = (ctx, world) => {
  const s = taggedServer(ctx, world);
  const tag = ctx.params.tag ?? '';
  if (!s.tags.includes(tag)) throw notFound(`Server ${s.id} has no tag '${tag}'`);
  return empty(204);
};

/** `PUT /servers/{id}/tags/{tag}` → 201 (with `Location`) when added, 204 when already there. */
export const addTagHandler: AuthedHandler = (ctx, world) => {
  const s = taggedServer(ctx, world);
  const tag = checkTag('tag', ctx.params.tag ?? '');
  requireState(s, 'update tag', EDITABLE, 'any');
  if (s.tags.includes(tag)) return empty(204);
  if (s.tags.length >= MAX_TAGS) throw tooMany();
  s.tags.push(tag);
  s.updatedAt = world.now();
  return empty(201, { Location: `${world.baseUrl}/compute/v2.1/servers/${s.id}/tags/${encodeURIComponent(tag)}` });
};

/** `DELETE /servers/{id}/tags/{tag}` → 204. */
export const deleteTagHandler: AuthedHandler = (ctx, world) => {
  const s = taggedServer(ctx, world);
  const tag = ctx.params.tag ?? '';
  requireState(s, 'delete tag', EDITABLE, 'any');
  if (!s.tags.includes(tag)) throw notFound(`Server ${s.id} has no tag '${tag}'`);
  s.tags = s.tags.filter((t) => t !== tag);
  s.updatedAt = world.now();
  return empty(204);
};
