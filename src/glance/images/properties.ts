import { CORE_IMAGE_ATTRIBUTES, type Image } from './schemas.js';

/**
 * The two kinds of image dataswap keeps in Glance: the *software image* is the source of a
 * guest's boot volume; the *startup image* holds the initial data a fresh data volume is built
 * from (the last rung of the escalation ladder before hand-over).
 */
export const IMAGE_ROLES = ['software', 'startup'] as const;
/** `software` (boot volume source) or `startup` (initial data of a data volume). */
export type ImageRole = (typeof IMAGE_ROLES)[number];

/** The image property that records an image's {@link ImageRole}. */
export const IMAGE_ROLE_PROPERTY = 'dataswap_role';

/**
 * The image property holding the caller's idempotency token. Glance properties are top-level
 * strings and can be filtered on, so a retried create can find the image the first try made.
 */
export const CLIENT_TOKEN_PROPERTY = 'dataswap_client_token';

/** Property names the library sets itself; callers set them through `role` and `clientToken`. */
export const DATASWAP_PROPERTIES: ReadonlySet<string> = new Set([IMAGE_ROLE_PROPERTY, CLIENT_TOKEN_PROPERTY]);

/** The value of one extra property, or undefined when it is absent or not a string. */
export function imageProperty(image: Image, key: string): string | undefined {
  const value: unknown = image[key];
  return typeof value === 'string' ? value : undefined;
}

/** Every extra (non-core) string property of an image, e.g. `hw_disk_bus` or `dataswap_role`. */
export function imageProperties(image: Image): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(image)) {
    if (!CORE_IMAGE_ATTRIBUTES.has(key) && typeof value === 'string') out[key] = value;
  }
  return out;
}

/** The image's role, or undefined when it carries no valid `dataswap_role`. */
export function imageRole(image: Image): ImageRole | undefined {
  const value = imageProperty(image, IMAGE_ROLE_PROPERTY);
  return IMAGE_ROLES.find((r) => r === value);
}
