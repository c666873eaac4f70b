import { attachReserved, detachVolume, reserveVolume } from '../cinder/lifecycle.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { empty, json, type AuthedHandler } from '../http/context.js';
import { isUuidLike, newUuid } from '../ids.js';
import { limitParam } from '../pagination.js';
import { atLeast } from '../microversion.js';
import type { BdmRecord } from '../state.js';
import { asBoolean, isRecord, unexpectedKeys } from '../validate.js';
import { attachmentView, nextDeviceName } from './server-view.js';
import { findServer, requireState } from './servers.js';
import { additionalProperties, checkTag, schemaError } from './validation.js';

/** `attach_volume`'s states (nova/compute/api.py), with no task in progress. */
const ATTACHABLE = ['active', 'paused', 'stopped', 'resized', 'soft-delete', 'shelved', 'shelved_offloaded'];
/** nova/block_device.py `_dev` pattern for a device name. */
const DEVICE_RE = /^(\/dev\/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$/;

/**
 * `GET /servers/{id}/os-volume_attachments`: paged by `offset` and `limit`, each page capped at the
 * page size, as Nova's `common.limited` does.
 */
export const listAttachmentsHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const offset = Number(ctx.query.get('offset') ?? '0');
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('offset param must be positive');
  const limit = limitParam(ctx.query, world.options.pageSize);
  const page = s.bdms.slice(offset, offset + limit);
  return json(200, { volumeAttachments: page.map((b) => attachmentView(world, s, b, ctx.microversion)) });
};

/** `GET /servers/{id}/os-volume_attachments/{volume_id}`. */
export const getAttachmentHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const volumeId = ctx.params.volumeId ?? '';
  const b = s.bdms.find((x) => x.volumeId === volumeId);
  if (!b) throw notFound(`Instance ${s.id} is not attached to volume ${volumeId}`);
  return json(200, { volumeAttachment: attachmentView(world, s, b, ctx.microversion) });
};

/**
 * `POST /servers/{id}/os-volume_attachments` → **200** `{"volumeAttachment": …}`. The volume goes
 * `reserved` → `attaching` → `in-use`. As in Nova's `volumes.py` `create`, the answer always has
 * `id` (it is GET that swaps it for `attachment_id`/`bdm_uuid` at 2.89), `tag` from 2.70 and
 * `delete_on_termination` from 2.79. A volume attached elsewhere or not available is a 400
 * (`InvalidVolume`, from Nova's own check or Cinder's reserve), a server busy or not running a 409.
 */
export const attachVolumeHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const mv = ctx.microversion;
  const body = ctx.body;
  if (!isRecord(body) || !isRecord(body.volumeAttachment)) throw schemaError('body', body, "'volumeAttachment' is a required property");
  const req = body.volumeAttachment;
  const allowed = new Set(['volumeId', 'device']);
  if (atLeast(mv, '2.49')) allowed.add('tag');
  if (atLeast(mv, '2.79')) allowed.add('delete_on_termination');
  const extra = unexpectedKeys(req, allowed);
  if (extra.length) throw additionalProperties('volumeAttachment', req, extra);
  if (!isUuidLike(req.volumeId)) throw schemaError('volumeId', req.volumeId, "is not a 'uuid'");
  const volumeId = req.volumeId;
  // check_instance_state runs before the body of attach_volume.
  requireState(s, 'attach_volume', ATTACHABLE);
  const device = req.device === undefined || req.device === null ? undefined : req.device;
  if (device !== undefined && (typeof device !== 'string' || !DEVICE_RE.test(device))) {
    throw badRequest(`The supplied device path (${String(device)}) is invalid.`);
  }
  const tag = req.tag === undefined || req.tag === null ? null : checkTag('tag', req.tag);
  let deleteOnTermination = false;
  if (req.delete_on_termination !== undefined) {
    const b = asBoolean(req.delete_on_termination);
    if (b === undefined) throw schemaError('delete_on_termination', req.delete_on_termination, 'is not a valid boolean');
    deleteOnTermination = b;
  }
  const v = world.store.volume(ctx.auth.projectId, volumeId);
  if (!v) throw notFound(`Volume ${volumeId} could not be found.`);
  if (v.attachment) throw badRequest(`Invalid volume: volume ${v.id} is already attached to instances: ${v.attachment.serverId}`);
  if (v.status.includes('error')) {
    throw badRequest(`Invalid input received: Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume ${v.id} currently has a status of: ${v.status} (HTTP 400) (Request-ID: ${ctx.requestId})`);
  }
  if (v.status !== 'available' && v.status !== 'downloading') {
    throw badRequest(
      `Invalid input received: Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is ${v.status}. (HTTP 400) (Request-ID: ${ctx.requestId})`,
    );
  }
  const used = s.bdms.map((b) => b.device);
  if (device !== undefined && used.includes(device)) throw badRequest(`The supplied device path (${device}) is in use.`);
  const name = device ?? nextDeviceName(used);
  reserveVolume(world, v, s.id, name);
  const bdm: BdmRecord = { uuid: newUuid(), volumeId: v.id, bootIndex: null, deleteOnTermination, device: name, tag, sourceType: 'volume', createdByNova: false };
  s.bdms.push(bdm);
  attachReserved(world, v, (ok) => {
    // A failed attach leaves no block device mapping behind, as Nova's rollback does.
    if (!ok) s.bdms = s.bdms.filter((b) => b !== bdm);
  });
  const out: Record<string, unknown> = { device: name, id: v.id, serverId: s.id, volumeId: v.id };
  if (atLeast(mv, '2.70')) out.tag = tag;
  if (atLeast(mv, '2.79')) out.delete_on_termination = deleteOnTermination;
  return json(200, { volumeAttachment: out });
};

/**
 * `DELETE /servers/{id}/os-volume_attachments/{volume_id}` → 202; the volume goes `detaching` →
 * `available`. 404 when the volume is not attached to this server, 400 for the root volume or a
 * volume not `in-use`, 409 when the server is busy.
 */
export const detachVolumeHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const volumeId = ctx.params.volumeId ?? '';
  const v = world.store.volume(ctx.auth.projectId, volumeId);
  if (!v) throw notFound(`Volume ${volumeId} could not be found.`);
  const bdm = s.bdms.find((b) => b.volumeId === volumeId);
  if (!bdm) throw notFound(`Instance ${s.id} is not attached to volume ${volumeId}`);
  if (bdm.bootIndex === 0) throw badRequest('Cannot detach a root device volume');
  requireState(s, 'detach_volume', ATTACHABLE);
  if (v.status !== 'in-use' || v.attachment?.attachedAt === undefined) {
    throw badRequest(
      `Invalid input received: Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach. (HTTP 400) (Request-ID: ${ctx.requestId})`,
    );
  }
  detachVolume(world, v, (ok) => {
    if (ok) s.bdms = s.bdms.filter((b) => b !== bdm);
  });
  return empty(202);
};

/**
 * `PUT /servers/{id}/os-volume_attachments/{volume_id}`: from 2.85 it may change
 * `delete_on_termination` of the same volume (202); swapping to another volume is admin-only (403).
 */
export const updateAttachmentHandler: AuthedHandler = (ctx, world) => {
  const s = findServer(ctx, world);
  const volumeId = ctx.params.volumeId ?? '';
  const body = ctx.body;
  if (!isRecord(body) || !isRecord(body.volumeAttachment)) throw schemaError('body', body, "'volumeAttachment' is a required property");
  const req = body.volumeAttachment;
  if (req.volumeId !== volumeId || !atLeast(ctx.microversion, '2.85')) {
    throw forbidden("Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
  }
  const bdm = s.bdms.find((b) => b.volumeId === volumeId);
  if (!bdm) throw notFound(`Instance ${s.id} is not attached to volume ${volumeId}`);
  if (req.delete_on_termination !== undefined) {
    const b = asBoolean(req.delete_on_termination);
    if (b === undefined) throw schemaError('delete_on_termination', req.delete_on_termination, 'is not a valid boolean');
    bdm.deleteOnTermination = b;
  }
  return empty(202);
};
