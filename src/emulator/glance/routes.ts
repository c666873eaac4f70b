import { json, type Route } from '../http/context.js';
import type { ServiceDefinition } from '../http/service.js';
import type { World } from '../world.js';
import {
  addImageTagHandler,
  createImageHandler,
  deleteImageHandler,
  deleteImageTagHandler,
  getImageHandler,
  listImagesHandler,
  updateImageHandler,
} from './images.js';
import { uploadImageHandler } from './upload.js';

const PREFIX = '/image';
const V2 = `${PREFIX}/v2`;

/** Glance Zed announces v2.15 as CURRENT and the older minor versions as SUPPORTED. */
function versions(world: World): unknown {
  return {
    versions: Array.from({ length: 16 }, (_, n) => 15 - n).map((minor) => ({
      id: `v2.${minor}`,
      status: minor === 15 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href: `${world.baseUrl}${V2}/` }],
    })),
  };
}

const routes: Route[] = [
  { method: 'GET', pattern: PREFIX, operation: 'glance.versions', public: true, handler: (_c, world) => json(300, versions(world)) },
  { method: 'GET', pattern: `${PREFIX}/versions`, operation: 'glance.versions', public: true, handler: (_c, world) => json(200, versions(world)) },
  { method: 'POST', pattern: `${V2}/images`, operation: 'glance.image.create', handler: createImageHandler },
  { method: 'GET', pattern: `${V2}/images`, operation: 'glance.image.list', handler: listImagesHandler },
  { method: 'GET', pattern: `${V2}/images/:id`, operation: 'glance.image.get', handler: getImageHandler },
  { method: 'PATCH', pattern: `${V2}/images/:id`, operation: 'glance.image.update', handler: updateImageHandler },
  { method: 'DELETE', pattern: `${V2}/images/:id`, operation: 'glance.image.delete', handler: deleteImageHandler },
  { method: 'PUT', pattern: `${V2}/images/:id/file`, operation: 'glance.image.upload', rawBody: true, handler: uploadImageHandler },
  { method: 'PUT', pattern: `${V2}/images/:id/tags/:tag`, operation: 'glance.image.tag.add', handler: addImageTagHandler },
  { method: 'DELETE', pattern: `${V2}/images/:id/tags/:tag`, operation: 'glance.image.tag.delete', handler: deleteImageTagHandler },
];

/** Glance's image API v2 under `/image`. */
export function glanceService(): ServiceDefinition {
  return { name: 'glance', prefix: PREFIX, routes, malformedBodyMessage: 'Malformed JSON in request body.' };
}
