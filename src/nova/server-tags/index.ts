export {
  addServerTag,
  hasServerTag,
  listServerTags,
  removeServerTag,
  replaceServerTags,
} from './requests.js';
export { serverTagsResponseSchema } from './schemas.js';
