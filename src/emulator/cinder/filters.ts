import { badRequest } from '../errors.js';
import { atLeast, type Microversion } from '../microversion.js';
import { isRecord } from '../validate.js';

/** Query keys that page or sort rather than filter. */
const NON_FILTER_KEYS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'offset', 'with_count', 'all_tenants', 'project_id']);

/** Cinder's `etc/cinder/resource_filters.json` (Zed). */
const RESOURCE_FILTERS: Record<'volume' | 'snapshot' | 'backup', ReadonlySet<string>> = {
  volume: new Set(['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at', 'consumes_quota']),
  snapshot: new Set(['name', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota']),
  backup: new Set(['name', 'status', 'volume_id']),
};

/** One filter of a list query: exact, or inexact (`name~`, 3.34+). */
export interface Filter {
  key: string;
  value: string;
  like: boolean;
}

/**
 * The filters of a list query. From 3.33 Cinder rejects keys its resource filter list does not
 * name; below that it ignores them.
 *
 * @throws {ApiError} 400 `Invalid filters … are found in query options.`
 */
export function parseFilters(query: URLSearchParams, resource: 'volume' | 'snapshot' | 'backup', mv: Microversion | undefined): Filter[] {
  const allowed = RESOURCE_FILTERS[resource];
  const out: Filter[] = [];
  const invalid: string[] = [];
  for (const [rawKey, value] of query) {
    if (NON_FILTER_KEYS.has(rawKey)) continue;
    const like = rawKey.endsWith('~') && atLeast(mv, '3.34');
    const key = like ? rawKey.slice(0, -1) : rawKey;
    if (!allowed.has(key)) {
      if (atLeast(mv, '3.33')) invalid.push(rawKey);
      continue;
    }
    // Snapshot metadata filtering arrived in 3.22; older requests have it dropped.
    if (resource === 'snapshot' && key === 'metadata' && !atLeast(mv, '3.22')) continue;
    out.push({ key, value, like });
  }
  if (invalid.length) throw badRequest(`Invalid filters ${invalid.join(',')} are found in query options.`);
  return out;
}

/**
 * The `metadata` filter value. Cinder reads it with Python's `ast.literal_eval`, so both JSON and a
 * Python dict literal with single quotes are accepted.
 */
export function parseMetadataFilter(value: string): Record<string, string> {
  for (const candidate of [value, value.replace(/'/g, '"')]) {
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (isRecord(parsed)) return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      // try the next spelling
    }
  }
  throw badRequest(`Invalid input received: metadata filter ${value} is not a dict`);
}

/** Whether a record's field passes one filter (`like` = case-insensitive substring, as SQL LIKE %x%). */
export function passes(actual: string | number | boolean | null | undefined, f: Filter): boolean {
  if (actual === undefined || actual === null) return false;
  const text = String(actual);
  return f.like ? text.toLowerCase().includes(f.value.toLowerCase()) : text === f.value;
}

/** Whether `metadata` holds every pair of the filter. */
export function passesMetadata(metadata: Record<string, string>, f: Filter): boolean {
  const want = parseMetadataFilter(f.value);
  return Object.entries(want).every(([k, v]) => metadata[k] === v);
}
