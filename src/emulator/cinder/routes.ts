import { actionName, json, type Route } from '../http/context.js';
import type { ServiceDefinition } from '../http/service.js';
import { formatMicroversion } from '../microversion.js';
import type { World } from '../world.js';
import { createBackupHandler, deleteBackupHandler, getBackupHandler, listBackupsHandler, restoreBackupHandler } from './backups.js';
import { metadataHandlers } from './metadata.js';
import {
  createSnapshotHandler,
  deleteSnapshotHandler,
  getSnapshotHandler,
  listSnapshotsHandler,
  snapshotOwner,
  updateSnapshotHandler,
} from './snapshots.js';
import {
  createVolumeHandler,
  deleteVolumeHandler,
  getVolumeHandler,
  listVolumesHandler,
  updateVolumeHandler,
  volumeActionHandler,
  volumeOwner,
} from './volumes.js';

const PREFIX = '/volume';
const V3 = `${PREFIX}/v3/:projectId`;

/** The v3 entry of Cinder's version documents (`GET /` and `GET /v3/` answer the same list). */
function versions(world: World): unknown {
  const range = world.ranges.volume;
  return {
    versions: [
      {
        id: 'v3.0',
        links: [
          { href: 'https://docs.openstack.org/', rel: 'describedby', type: 'text/html' },
          { href: `${world.baseUrl}${PREFIX}/v3/`, rel: 'self' },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
        min_version: formatMicroversion(range.min),
        status: 'CURRENT',
        updated: '2022-08-31T00:00:00Z',
        version: formatMicroversion(range.max),
      },
    ],
  };
}

function metadataRoutes(collection: string, name: string, handlers: ReturnType<typeof metadataHandlers>): Route[] {
  const base = `${V3}/${collection}/:id/metadata`;
  return [
    { method: 'GET', pattern: base, operation: `cinder.${name}.metadata.list`, handler: handlers.list },
    { method: 'POST', pattern: base, operation: `cinder.${name}.metadata.update`, handler: handlers.merge },
    { method: 'PUT', pattern: base, operation: `cinder.${name}.metadata.replace`, handler: handlers.replace },
    { method: 'GET', pattern: `${base}/:key`, operation: `cinder.${name}.metadata.get`, handler: handlers.get },
    { method: 'PUT', pattern: `${base}/:key`, operation: `cinder.${name}.metadata.set`, handler: handlers.set },
    { method: 'DELETE', pattern: `${base}/:key`, operation: `cinder.${name}.metadata.delete`, handler: handlers.remove },
  ];
}

const routes: Route[] = [
  { method: 'GET', pattern: PREFIX, operation: 'cinder.versions', public: true, handler: (_c, world) => json(300, versions(world)) },
  { method: 'GET', pattern: `${PREFIX}/v3`, operation: 'cinder.version', public: true, handler: (_c, world) => json(200, versions(world)) },

  { method: 'POST', pattern: `${V3}/volumes`, operation: 'cinder.volume.create', handler: createVolumeHandler },
  { method: 'GET', pattern: `${V3}/volumes`, operation: 'cinder.volume.list', handler: listVolumesHandler(false) },
  { method: 'GET', pattern: `${V3}/volumes/detail`, operation: 'cinder.volume.list', handler: listVolumesHandler(true) },
  { method: 'GET', pattern: `${V3}/volumes/:id`, operation: 'cinder.volume.get', handler: getVolumeHandler },
  { method: 'PUT', pattern: `${V3}/volumes/:id`, operation: 'cinder.volume.update', handler: updateVolumeHandler },
  { method: 'DELETE', pattern: `${V3}/volumes/:id`, operation: 'cinder.volume.delete', handler: deleteVolumeHandler },
  {
    method: 'POST',
    pattern: `${V3}/volumes/:id/action`,
    operation: 'cinder.volume.action',
    operationOf: (body) => actionName('cinder.volume', body),
    handler: volumeActionHandler,
  },
  ...metadataRoutes('volumes', 'volume', metadataHandlers(volumeOwner)),

  { method: 'POST', pattern: `${V3}/snapshots`, operation: 'cinder.snapshot.create', handler: createSnapshotHandler },
  { method: 'GET', pattern: `${V3}/snapshots`, operation: 'cinder.snapshot.list', handler: listSnapshotsHandler(false) },
  { method: 'GET', pattern: `${V3}/snapshots/detail`, operation: 'cinder.snapshot.list', handler: listSnapshotsHandler(true) },
  { method: 'GET', pattern: `${V3}/snapshots/:id`, operation: 'cinder.snapshot.get', handler: getSnapshotHandler },
  { method: 'PUT', pattern: `${V3}/snapshots/:id`, operation: 'cinder.snapshot.update', handler: updateSnapshotHandler },
  { method: 'DELETE', pattern: `${V3}/snapshots/:id`, operation: 'cinder.snapshot.delete', handler: deleteSnapshotHandler },
  ...metadataRoutes('snapshots', 'snapshot', metadataHandlers(snapshotOwner)),

  { method: 'POST', pattern: `${V3}/backups`, operation: 'cinder.backup.create', handler: createBackupHandler },
  { method: 'GET', pattern: `${V3}/backups`, operation: 'cinder.backup.list', handler: listBackupsHandler(false) },
  { method: 'GET', pattern: `${V3}/backups/detail`, operation: 'cinder.backup.list', handler: listBackupsHandler(true) },
  { method: 'GET', pattern: `${V3}/backups/:id`, operation: 'cinder.backup.get', handler: getBackupHandler },
  { method: 'DELETE', pattern: `${V3}/backups/:id`, operation: 'cinder.backup.delete', handler: deleteBackupHandler },
  { method: 'POST', pattern: `${V3}/backups/:id/restore`, operation: 'cinder.backup.restore', handler: restoreBackupHandler },
];

/** The volume actions the emulator handles, as their operation names (`cinder.volume.<action>`). */
export const CINDER_ACTION_OPERATIONS = ['cinder.volume.os-extend', 'cinder.volume.os-set_bootable'];

/** Cinder v3 under `/volume`: volumes, snapshots (with metadata) and backups. */
export function cinderService(): ServiceDefinition {
  return { name: 'cinder', prefix: PREFIX, routes, microversion: 'volume', malformedBodyMessage: 'Malformed request body', projectParam: 'projectId' };
}
