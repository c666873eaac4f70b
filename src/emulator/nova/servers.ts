import { conflict, notFound, badRequest } from '../errors.js';
import { empty, json, type AuthedContext, type AuthedHandler } from '../http/context.js';
import { atLeast } from '../microversion.js';
import { limitParam, nextQuery, pageOf } from '../pagination.js';
import type { ServerRecord } from '../state.js';
import { isRecord } from '../validate.js';
import type { World } from '../world.js';
import { startDelete } from './lifecycle.js';
import { serverSummary, serverView } from './server-view.js';
import { checkName, schemaError } from './validation.js';

/** The caller's server named in the path, or Nova's 404. */
export function findServer(ctx: AuthedContext, world: World): ServerRecord {
  const id = ctx.params.id ?? '';
  const s = world.store.server(ctx.auth.projectId, id);
  if (!s) throw notFound(`Instance ${id} could not be found.`);
  return s;
}

/**
 * Nova's `check_instance_state`: the action needs one of `vmStates` and (by default) no task in
 * progress, else 409 `Cannot '<action>' instance <id> while it is in vm_state|task_state <x>`.
 */
export function requireState(
  s: ServerRecord,
  action: string,
  vmStates: readonly string[],
  taskStates: readonly (string | null)[] | 'any' = [null],
): void {
  if (!vmStates.includes(s.vmState)) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  if (taskStates !== 'any' && !taskStates.includes(s.taskState)) throw conflict(`Cannot '${action}' instance ${s.id} while it is in task_state ${String(s.taskState)}`);
}

/** `GET /servers/{id}`. */
export const getServerHandler: AuthedHandler = (ctx, world) => {
  const server = serverView(world, findServer(ctx, world), ctx.microversion);
  // 2.71+: the show view (only) names the server's groups; the emulator has none.
  if (atLeast(ctx.microversion, '2.71')) server.server_groups = [];
  return json(200, { server });
};

/** `PUT /servers/{id}`: name, and description from 2.19. */
export const updateServerHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  if (!isRecord(ctx.body) || !isRecord(ctx.body.server)) throw schemaError('body', ctx.body, "'server' is a required property");
  const req = ctx.body.server;
  if (req.name !== undefined) s.name = checkName('name', req.name);
  if (req.description !== undefined) {
    if (!atLeast(ctx.microversion, '2.19')) throw schemaError('server', req, "Additional properties are not allowed ('description' was unexpected)");
    if (req.description !== null && (typeof req.description !== 'string' || req.description.length > 255)) throw schemaError('description', req.description, 'is too long');
    s.description = req.description as string | null;
  }
  s.updatedAt = world.now();
  return json(200, { server: serverView(world, s, ctx.microversion) });
};

function nameMatcher(pattern: string): (name: string) => boolean {
  // Nova filters names with a regular expression search (REGEXP in the database).
  try {
    const re = new RegExp(pattern);
    return (name) => re.test(name);
  } catch {
    return (name) => name.includes(pattern);
  }
}

function tagList(query: URLSearchParams, key: string): string[] | undefined {
  const raw = query.get(key);
  return raw === null ? undefined : raw.split(',').filter((t) => t.length > 0);
}

/**
 * `GET /servers` and `GET /servers/detail`: filters `name` (regex), `status`, and from 2.26
 * `tags`, `tags-any`, `not-tags`, `not-tags-any`; newest first; `limit`/`marker` with a
 * `servers_links` next link whenever the page is full. Other filters are ignored, as Nova does for
 * non-admin users.
 */
export function listServersHandler(detail: boolean): AuthedHandler {
  return (ctx, world) => {
    const { projectId } = ctx.auth;
    const q = ctx.query;
    const limit = limitParam(q, world.options.pageSize);
    const markerId = q.get('marker');
    let markerSeq: number | undefined;
    if (markerId !== null) {
      const marker = world.store.server(projectId, markerId);
      if (!marker) throw badRequest(`marker [${markerId}] not found`);
      markerSeq = marker.seq;
    }
    const name = q.get('name');
    const nameOk = name === null ? () => true : nameMatcher(name);
    const status = q.get('status')?.toUpperCase();
    const withTags = atLeast(ctx.microversion, '2.26');
    const tags = withTags ? tagList(q, 'tags') : undefined;
    const tagsAny = withTags ? tagList(q, 'tags-any') : undefined;
    const notTags = withTags ? tagList(q, 'not-tags') : undefined;
    const notTagsAny = withTags ? tagList(q, 'not-tags-any') : undefined;
    const matching = [...world.store.servers.values()].filter((s) => {
      if (s.projectId !== projectId || !nameOk(s.name)) return false;
      if (status !== undefined && s.status !== status) return false;
      if (tags && !tags.every((t) => s.tags.includes(t))) return false;
      if (tagsAny && !tagsAny.some((t) => s.tags.includes(t))) return false;
      if (notTags && notTags.every((t) => s.tags.includes(t))) return false;
      if (notTagsAny && notTagsAny.some((t) => s.tags.includes(t))) return false;
      return true;
    });
    const page = pageOf(matching, markerSeq, limit);
    const body: Record<string, unknown> = {
      servers: page.map((s) => (detail ? serverView(world, s, ctx.microversion) : serverSummary(world, s))),
    };
    const last = page[page.length - 1];
    if (last && page.length === limit) {
      body.servers_links = [{ href: `${world.baseUrl}/compute/v2.1/servers${detail ? '/detail' : ''}?${nextQuery(q, last.id, true)}`, rel: 'next' }];
    }
    return json(200, body);
  };
}

/** `DELETE /servers/{id}` → 204; the server then shows task `deleting` until it is gone (404). */
export const deleteServerHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  if (s.taskState !== 'deleting') startDelete(world, s);
  return empty(204);
};
