/** Nova compute API v2.1 server paths; every id is percent-encoded. */

const enc = encodeURIComponent;

/** `/servers` (create). */
export const serversUrl = (): string => '/servers';
/** `/servers/detail` (list with details). */
export const serversDetailUrl = (): string => '/servers/detail';
/** `/servers/{id}`. */
export const serverUrl = (serverId: string): string => `/servers/${enc(serverId)}`;
/** `/servers/{id}/action` (reboot and the other server actions). */
export const serverActionUrl = (serverId: string): string => `/servers/${enc(serverId)}/action`;
