export {
  deleteServerMetadataItem,
  getServerMetadata,
  replaceServerMetadata,
  setServerMetadataItem,
  updateServerMetadata,
} from './requests.js';
export { serverMetadataItemResponseSchema, serverMetadataResponseSchema } from './schemas.js';
