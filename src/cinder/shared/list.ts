import { BadRequestError } from '../../core/errors.js';
import { paginate } from '../../core/paginate.js';
import type { Query } from '../../core/service-client.js';
import { nextMarker, type CollectionLinks } from './pagination.js';

/** One answer of a Cinder `…/detail` list: the items and the `*_links` that may hold `next`. */
export interface ListPage<T> {
  items: readonly T[];
  links: CollectionLinks | undefined;
}

/** Cinder's answer to a filter its `resource_filters.json` does not allow a non-admin (3.31+). */
function isFilterRefusal(err: unknown): boolean {
  return err instanceof BadRequestError && /invalid filters/i.test(err.faultMessage ?? '');
}

/**
 * Walks a Cinder list to the end with `filters` applied on the server, and `keep` (the same
 * filters) checked again on each item. From 3.31 a deployment decides which filters a non-admin
 * may use (`resource_query_filters_file`); when it refuses ours, the walk starts over without
 * server-side filters and relies on `keep` alone: slower, never wrong. The re-check also covers
 * servers that silently drop a filter (snapshot metadata below 3.22).
 */
export function listFiltered<T extends { id: string }>(
  fetchPage: (query: Query) => Promise<ListPage<T>>,
  spec: { filters: Query; pageSize: number | undefined; keep: (item: T) => boolean },
): AsyncGenerator<T, void, undefined> {
  const hasFilters = Object.values(spec.filters).some((v) => v !== undefined);
  return (async function* walk() {
    let filters = spec.filters;
    let first: ListPage<T>;
    try {
      first = await fetchPage({ ...filters, limit: spec.pageSize });
    } catch (err) {
      if (!hasFilters || !isFilterRefusal(err)) throw err;
      filters = {};
      first = await fetchPage({ limit: spec.pageSize });
    }
    const pages = paginate<T>(async (marker) => {
      const page =
        marker === undefined ? first : await fetchPage({ ...filters, limit: spec.pageSize, marker });
      return { items: page.items, next: nextMarker(page.links, page.items) };
    });
    // Filtering after `paginate`, so a page whose items all fail `keep` does not end the walk.
    for await (const item of pages) if (spec.keep(item)) yield item;
  })();
}

/** Whether `actual` equals `wanted`, or no value is wanted (Cinder's filters match exactly). */
export function sameOrAny(actual: string | null | undefined, wanted: string | undefined): boolean {
  return wanted === undefined || actual === wanted;
}
