import { randomBytes, randomUUID } from 'node:crypto';

/** A resource id as Nova, Cinder and Glance hand them out: a dashed lowercase UUID. */
export function newUuid(): string {
  return randomUUID();
}

/**
 * A Keystone id (project, user, role, endpoint): 32 lowercase hex digits. The library's
 * `versionUrl` recognises a trailing 32-hex segment as a project id, so this format matters.
 */
export function newHexId(): string {
  return randomUUID().replace(/-/g, '');
}

/** `req-<uuid>`, the value of `x-openstack-request-id` (oslo.middleware's format). */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

/** An opaque token shaped like a Fernet token (`gAAAAA…`, URL-safe base64, ~180 characters). */
export function newTokenValue(): string {
  return `gAAAAAB${randomBytes(132).toString('base64url')}`;
}

/** A random password or secret of URL-safe characters. */
export function newSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** Keystone's audit id: 22 characters of URL-safe base64. */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Whether `value` looks like a UUID, dashed or not (oslo's `is_uuid_like`). */
export function isUuidLike(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
