import { serverUrl } from '../servers/urls.js';

/** `/servers/{id}/metadata`. */
export const serverMetadataUrl = (serverId: string): string => `${serverUrl(serverId)}/metadata`;
/** `/servers/{id}/metadata/{key}`. */
export const serverMetadataItemUrl = (serverId: string, key: string): string =>
  `${serverMetadataUrl(serverId)}/${encodeURIComponent(key)}`;
