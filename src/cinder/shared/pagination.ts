import { z } from 'zod';

/** A `*_links` entry of a Cinder list (cinder/api/common.py `_generate_next_link`). */
export const collectionLinksSchema = z.array(z.looseObject({ rel: z.string(), href: z.string() }));

/** The `*_links` of a Cinder list. */
export type CollectionLinks = z.infer<typeof collectionLinksSchema>;

/**
 * The marker of the next page. Cinder adds a `next` link only when the page is full (the `limit`
 * asked for, or the server's `osapi_max_limit`); its marker is the id of the page's last item, so we
 * take that id and keep our own endpoint and filters rather than follow the link's host.
 */
export function nextMarker(
  links: CollectionLinks | undefined,
  items: readonly { id: string }[],
): string | undefined {
  if (!links?.some((l) => l.rel === 'next')) return undefined;
  return items[items.length - 1]?.id;
}

/** A page size as Cinder's `limit` accepts it. */
export const pageSizeSchema = z.number().int().min(1).max(10_000);
