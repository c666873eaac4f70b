/** The Image service (Glance v2): the client class and every image call, type and error. */
export { GlanceClient, GlanceImages } from './client.js';
export * from './images/index.js';
