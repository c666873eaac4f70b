import { serverUrl } from '../servers/urls.js';

/** `/servers/{id}/tags` (2.26+). */
export const serverTagsUrl = (serverId: string): string => `${serverUrl(serverId)}/tags`;
/** `/servers/{id}/tags/{tag}` (2.26+). */
export const serverTagUrl = (serverId: string, tag: string): string =>
  `${serverTagsUrl(serverId)}/${encodeURIComponent(tag)}`;
