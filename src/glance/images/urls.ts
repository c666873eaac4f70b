import type { ServiceClient } from '../../core/service-client.js';

/**
 * The path prefix that reaches the v2 API from the client's endpoint. The catalog usually lists
 * Glance as the bare root (`http://host:9292`, or `http://host/image` behind a proxy), so paths
 * carry `/v2`; an endpoint configured as `…/v2` already has it.
 */
function versionPrefix(client: ServiceClient): string {
  return /\/v2$/.test(client.endpoint) ? '' : '/v2';
}

/** `/v2/images`: the image collection. */
export function imagesPath(client: ServiceClient): string {
  return `${versionPrefix(client)}/images`;
}

/** `/v2/images?…`: the collection with a query (repeatable keys such as `tag` allowed). */
export function imagesQueryPath(client: ServiceClient, query: URLSearchParams): string {
  const qs = query.toString();
  return qs ? `${imagesPath(client)}?${qs}` : imagesPath(client);
}

/** `/v2/images/{id}`. */
export function imagePath(client: ServiceClient, imageId: string): string {
  return `${imagesPath(client)}/${encodeURIComponent(imageId)}`;
}

/** `/v2/images/{id}/file`: the image data. */
export function imageFilePath(client: ServiceClient, imageId: string): string {
  return `${imagePath(client, imageId)}/file`;
}

/** `/v2/images/{id}/tags/{tag}`. */
export function imageTagPath(client: ServiceClient, imageId: string, tag: string): string {
  return `${imagePath(client, imageId)}/tags/${encodeURIComponent(tag)}`;
}

/**
 * Turns a link from a Glance body (`next`, `self`, `file`: always `/v2/…`, relative to the API
 * root whatever the endpoint's own path) into a path relative to the client's endpoint.
 * Absolute URLs are returned unchanged.
 */
export function resolveGlanceLink(client: ServiceClient, link: string): string {
  if (/^https?:\/\//.test(link)) return link;
  const rooted = link.startsWith('/') ? link : `/${link}`;
  return versionPrefix(client) === '' && /^\/v2(\/|\?|$)/.test(rooted) ? rooted.slice(3) : rooted;
}
