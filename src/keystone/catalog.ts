import { EndpointNotFoundError } from '../core/errors.js';
import type { CatalogEntry } from './schemas.js';

/** The services the library talks to. */
export type ServiceType = 'identity' | 'compute' | 'block-storage' | 'image';

/**
 * Official aliases from the OpenStack service-types authority: a cloud may register Cinder as
 * `block-storage`, `volumev3` or `volume` (older deployments `volumev2`), and so on.
 */
export const SERVICE_TYPE_ALIASES: Record<ServiceType, readonly string[]> = {
  identity: ['identity'],
  compute: ['compute'],
  'block-storage': ['block-storage', 'volumev3', 'volume', 'block-store'],
  image: ['image'],
};

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointQuery {
  type: ServiceType;
  region?: string | undefined;
  interface?: EndpointInterface | undefined;
}

/**
 * The endpoint URL for a service from the token's catalog: the first alias that has an endpoint for
 * the interface (and region, when given) wins, in the order above.
 *
 * @throws {EndpointNotFoundError} naming what was looked for and what the catalog has.
 */
export function selectEndpoint(catalog: readonly CatalogEntry[], query: EndpointQuery): string {
  const iface = query.interface ?? 'public';
  for (const alias of SERVICE_TYPE_ALIASES[query.type]) {
    for (const entry of catalog) {
      if (entry.type !== alias) continue;
      const match = entry.endpoints.find(
        (e) =>
          e.interface === iface &&
          (query.region === undefined || e.region_id === query.region || e.region === query.region),
      );
      if (match) return match.url.replace(/\/+$/, '');
    }
  }
  const offered = catalog
    .map((e) => `${e.type}(${[...new Set(e.endpoints.map((x) => `${x.interface}@${x.region_id ?? x.region ?? '-'}`))].join(',')})`)
    .join(' ');
  throw new EndpointNotFoundError(
    `no ${iface} endpoint for ${query.type} (types tried: ${SERVICE_TYPE_ALIASES[query.type].join(', ')})` +
      `${query.region ? ` in region ${query.region}` : ''}; the catalog has: ${offered || 'nothing'}`,
  );
}
