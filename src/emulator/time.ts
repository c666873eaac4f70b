/**
 * Timestamp formats, one per service, as the real Zed services print them. Records keep epoch
 * milliseconds; views format them.
 */

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Nova: seconds precision with `Z` (`2025-01-01T00:00:00Z`). */
export function novaTime(ms: number): string {
  return `${iso(ms).slice(0, 19)}Z`;
}

/** Nova's `OS-SRV-USG:launched_at`: microseconds, no zone (`2025-01-01T00:00:00.000000`). */
export function novaUsageTime(ms: number): string {
  return cinderTime(ms);
}

/** Cinder: microseconds, no zone (`2025-01-01T00:00:00.000000`). */
export function cinderTime(ms: number): string {
  return `${iso(ms).slice(0, 23)}000`;
}

/** Glance: seconds precision with `Z`. */
export function glanceTime(ms: number): string {
  return novaTime(ms);
}

/** Keystone: microseconds with `Z` (`2025-01-01T00:00:00.000000Z`). */
export function keystoneTime(ms: number): string {
  return `${iso(ms).slice(0, 23)}000Z`;
}
