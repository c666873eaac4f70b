/** `/flavors/detail` (list with details). */
export const flavorsDetailUrl = (): string => '/flavors/detail';
/** `/flavors/{id}`. */
export const flavorUrl = (flavorId: string): string => `/flavors/${encodeURIComponent(flavorId)}`;
