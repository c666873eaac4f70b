import { newHexId } from '../ids.js';
import type { World } from '../world.js';

/** The catalog's services: type, name, and the URL below the emulator's base. */
const SERVICES: readonly { type: string; name: string; path: (projectId: string) => string }[] = [
  { type: 'identity', name: 'keystone', path: () => '/identity' },
  { type: 'compute', name: 'nova', path: () => '/compute/v2.1' },
  // DevStack registers Cinder twice, under the current type and the older alias, same URL.
  { type: 'block-storage', name: 'cinder', path: (p) => `/volume/v3/${p}` },
  { type: 'volumev3', name: 'cinderv3', path: (p) => `/volume/v3/${p}` },
  { type: 'image', name: 'glance', path: () => '/image' },
];

const INTERFACES = ['public', 'internal', 'admin'] as const;

/** The region every endpoint is in. */
export const REGION = 'RegionOne';

/** Fresh Keystone ids for the catalog's services and endpoints. */
export function newCatalogIds(): World['catalogIds'] {
  return Object.fromEntries(
    SERVICES.map((s) => [s.type, { service: newHexId(), endpoints: Object.fromEntries(INTERFACES.map((i) => [i, newHexId()])) }]),
  );
}

/** A project-scoped token's catalog: every service, public/internal/admin, all on this emulator. */
export function buildCatalog(world: World, projectId: string): unknown[] {
  return SERVICES.map((s) => {
    const ids = world.catalogIds[s.type];
    return {
      endpoints: INTERFACES.map((iface) => ({
        id: ids?.endpoints[iface] ?? newHexId(),
        interface: iface,
        region: REGION,
        region_id: REGION,
        url: `${world.baseUrl}${s.path(projectId)}`,
      })),
      id: ids?.service ?? newHexId(),
      type: s.type,
      name: s.name,
    };
  });
}
