import { ApiError, badRequest, unauthorized } from '../errors.js';
import type { AuthInfo } from '../http/context.js';
import { newAuditId, newTokenValue } from '../ids.js';
import type { AppCredentialRecord, ProjectRecord, TokenRecord, UserRecord } from '../state.js';
import { keystoneTime } from '../time.js';
import { asString, isRecord } from '../validate.js';
import type { World } from '../world.js';
import { buildCatalog } from './catalog.js';

/** The one domain of the emulated cloud. */
export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

const SUPPORTED_METHODS = new Set(['password', 'token', 'application_credential']);

function domainMatches(ref: unknown): boolean {
  if (!isRecord(ref)) return false;
  if (ref.id !== undefined) return ref.id === DEFAULT_DOMAIN.id;
  return ref.name === DEFAULT_DOMAIN.name;
}

function findUser(world: World, ref: Record<string, unknown>): UserRecord | undefined {
  const id = asString(ref.id);
  if (id !== undefined) return world.store.users.get(id);
  const name = asString(ref.name);
  if (name === undefined) throw badRequest("Invalid input for field 'user': either 'id' or 'name' with 'domain' is required");
  if (!domainMatches(ref.domain)) return undefined;
  for (const u of world.store.users.values()) if (u.name === name) return u;
  return undefined;
}

function findProject(world: World, ref: Record<string, unknown>): ProjectRecord | undefined {
  const id = asString(ref.id);
  if (id !== undefined) return world.store.projects.get(id);
  const name = asString(ref.name);
  if (name === undefined || !domainMatches(ref.domain)) return undefined;
  for (const p of world.store.projects.values()) if (p.name === name) return p;
  return undefined;
}

/** The project a request's `scope` names; undefined for an explicitly unscoped request. */
function scopedProject(world: World, user: UserRecord, scope: unknown, fallback: string | undefined): string | undefined {
  if (scope === undefined) return fallback;
  if (scope === 'unscoped') return undefined;
  if (!isRecord(scope) || !isRecord(scope.project)) {
    // Domain and system scopes need role assignments the emulated users do not have.
    throw unauthorized();
  }
  const project = findProject(world, scope.project);
  if (!project || !user.projectIds.includes(project.id)) throw unauthorized();
  return project.id;
}

function findAppCredential(world: World, ref: Record<string, unknown>): AppCredentialRecord | undefined {
  const id = asString(ref.id);
  if (id !== undefined) return world.store.appCredentials.get(id);
  const name = asString(ref.name);
  if (name === undefined || !isRecord(ref.user)) return undefined;
  const user = findUser(world, ref.user);
  if (!user) return undefined;
  for (const c of world.store.appCredentials.values()) if (c.name === name && c.userId === user.id) return c;
  return undefined;
}

/**
 * Checks a `POST /v3/auth/tokens` body and issues a token (password, application credential or
 * token method), as Keystone would.
 *
 * @throws {ApiError} 400 for a malformed body, 401 for bad credentials or a scope the user may not have.
 */
export function issueToken(world: World, body: unknown): TokenRecord {
  if (!isRecord(body) || !isRecord(body.auth)) throw badRequest("Invalid input for field 'auth': 'auth' is a required property");
  const auth = body.auth;
  if (!isRecord(auth.identity)) throw badRequest("Invalid input for field 'auth': 'identity' is a required property");
  const identity = auth.identity;
  const methods = identity.methods;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
    throw badRequest("Invalid input for field 'identity': 'methods' is a required property");
  }
  const method = methods[0] as string;
  if (!SUPPORTED_METHODS.has(method)) throw new ApiError(401, 'Attempted to authenticate with an unsupported method.');
  const section = identity[method];
  if (!isRecord(section)) throw badRequest(`Invalid input for field 'identity': '${method}' is a required property`);

  const now = world.now();
  world.store.purgeExpiredTokens(now);
  let user: UserRecord | undefined;
  let projectId: string | undefined;
  let expiresAt = now + world.options.tokenTtlMs;
  let appCredId: string | undefined;

  if (method === 'password') {
    if (!isRecord(section.user)) throw badRequest("Invalid input for field 'password': 'user' is a required property");
    user = findUser(world, section.user);
    if (!user || asString(section.user.password) !== user.password) throw unauthorized();
    projectId = scopedProject(world, user, auth.scope, user.defaultProjectId);
  } else if (method === 'application_credential') {
    const cred = findAppCredential(world, section);
    if (!cred || asString(section.secret) !== cred.secret) throw unauthorized();
    // An application credential carries its own scope; Keystone refuses another one.
    if (auth.scope !== undefined) throw unauthorized('Application credentials cannot request a scope.');
    user = world.store.users.get(cred.userId);
    if (!user) throw unauthorized();
    projectId = cred.projectId;
    appCredId = cred.id;
  } else {
    const original = world.store.tokens.get(asString(section.id) ?? '');
    if (!original || original.expiresAt <= now) throw unauthorized();
    user = world.store.users.get(original.userId);
    if (!user) throw unauthorized();
    projectId = scopedProject(world, user, auth.scope, original.projectId);
    // A token obtained with a token never outlives the one it came from.
    expiresAt = original.expiresAt;
    appCredId = original.applicationCredentialId;
  }

  const token: TokenRecord = {
    value: newTokenValue(),
    userId: user.id,
    projectId,
    methods: [method],
    issuedAt: now,
    expiresAt,
    auditId: newAuditId(),
    applicationCredentialId: appCredId,
  };
  world.store.tokens.set(token.value, token);
  return token;
}

/** The token's body as Keystone returns it (201 on create, 200 on validation). */
export function tokenBody(world: World, token: TokenRecord): unknown {
  const user = world.store.users.get(token.userId);
  const out: Record<string, unknown> = {
    methods: token.methods,
    user: { domain: { ...DEFAULT_DOMAIN }, id: token.userId, name: user?.name ?? '', password_expires_at: null },
    audit_ids: [token.auditId],
    expires_at: keystoneTime(token.expiresAt),
    issued_at: keystoneTime(token.issuedAt),
  };
  const project = token.projectId === undefined ? undefined : world.store.projects.get(token.projectId);
  if (project) {
    out.project = { domain: { ...DEFAULT_DOMAIN }, id: project.id, name: project.name };
    out.is_domain = false;
    out.roles = Object.entries(world.roleIds).map(([name, id]) => ({ id, name }));
    out.catalog = buildCatalog(world, project.id);
  }
  if (token.applicationCredentialId !== undefined) {
    const cred = world.store.appCredentials.get(token.applicationCredentialId);
    out.application_credential = { id: token.applicationCredentialId, name: cred?.name ?? '', restricted: true };
  }
  return { token: out };
}

/**
 * The caller behind an `X-Auth-Token`, as keystonemiddleware would resolve it; undefined when the
 * token is unknown, revoked, expired or not scoped to a project.
 */
export function authenticateToken(world: World, value: string | undefined): AuthInfo | undefined {
  if (value === undefined) return undefined;
  const token = world.store.tokens.get(value);
  if (!token || token.expiresAt <= world.now() || token.projectId === undefined) return undefined;
  return { token, projectId: token.projectId, userId: token.userId };
}
