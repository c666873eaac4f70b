/** One page of a list call and the cursor of the next one, if any. */
export interface Page<T> {
  items: readonly T[];
  /** A marker (Nova, Cinder) or a `next` link (Glance); undefined on the last page. */
  next: string | undefined;
}

/**
 * Walks every page to the end, as an async iterator. Lists are never silently cut at the
 * server's page limit. A cursor that repeats ends the walk instead of looping forever.
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.next === undefined || page.items.length === 0 || seen.has(page.next)) return;
    seen.add(page.next);
    cursor = page.next;
  }
}

/** Collects an async iterator into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
