import { serverUrl } from '../servers/urls.js';

/** `/servers/{id}/os-volume_attachments`. */
export const volumeAttachmentsUrl = (serverId: string): string =>
  `${serverUrl(serverId)}/os-volume_attachments`;
/** `/servers/{id}/os-volume_attachments/{volume_id}`: Nova names an attachment by its volume id. */
export const volumeAttachmentUrl = (serverId: string, volumeId: string): string =>
  `${volumeAttachmentsUrl(serverId)}/${encodeURIComponent(volumeId)}`;
