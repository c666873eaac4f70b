import { badRequest } from './errors.js';

/** Anything listable: an id and its creation sequence number. */
export interface Sequenced {
  id: string;
  seq: number;
}

/**
 * The services' default order, newest first (`created_at` desc, then id), and the page after
 * `markerSeq` — the marker's position, looked up among every resource of the caller's, so a marker
 * the filters exclude still works, as with a database query on the marker's sort keys.
 */
export function pageOf<T extends Sequenced>(items: Iterable<T>, markerSeq: number | undefined, limit: number): T[] {
  const sorted = [...items].sort((a, b) => b.seq - a.seq);
  const after = markerSeq === undefined ? sorted : sorted.filter((i) => i.seq < markerSeq);
  return after.slice(0, limit);
}

/**
 * The `limit` query parameter, capped at `max`; `fallback` when absent.
 *
 * @throws {ApiError} 400 when it is not a non-negative integer (Nova's, Cinder's and Glance's wording).
 */
export function limitParam(query: URLSearchParams, max: number, fallback = max): number {
  const raw = query.get('limit');
  if (raw === null) return Math.min(fallback, max);
  if (!/^-?\d+$/.test(raw.trim())) throw badRequest('limit param must be an integer');
  const n = Number(raw);
  if (n < 0) throw badRequest('limit param must be positive');
  return Math.min(n, max);
}

/**
 * A `next` link: the request's own query with `marker` set to the last item (Nova sorts the
 * parameters, Cinder and Glance keep their order and append the marker).
 */
export function nextQuery(query: URLSearchParams, marker: string, sorted: boolean): string {
  const params = new URLSearchParams(query);
  params.delete('marker');
  params.append('marker', marker);
  if (sorted) params.sort();
  return params.toString();
}
