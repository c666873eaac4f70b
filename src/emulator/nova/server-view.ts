import { createHash } from 'node:crypto';
import { atLeast, type Microversion } from '../microversion.js';
import type { BdmRecord, ServerRecord } from '../state.js';
import { novaTime, novaUsageTime } from '../time.js';
import type { World } from '../world.js';
import { findFlavor } from './flavors.js';

/** The one emulated compute host. */
export const COMPUTE_HOST = 'emulator-compute';

/**
 * Nova's `status` from `vm_state` and `task_state` (nova/api/openstack/common.py `_STATE_MAP`,
 * the part this emulator reaches).
 */
export function serverStatus(vmState: string, taskState: string | null): string {
  switch (vmState) {
    case 'building':
      return 'BUILD';
    case 'active':
    case 'stopped':
      if (taskState === 'rebooting' || taskState === 'reboot_pending' || taskState === 'reboot_started') return 'REBOOT';
      if (taskState === 'rebooting_hard' || taskState === 'reboot_pending_hard' || taskState === 'reboot_started_hard') return 'HARD_REBOOT';
      return vmState === 'active' ? 'ACTIVE' : 'SHUTOFF';
    case 'error':
      return 'ERROR';
    case 'deleted':
      return 'DELETED';
    default:
      return 'UNKNOWN';
  }
}

/** Sets a server's states and the status they imply. */
export function setServerState(world: World, s: ServerRecord, vmState: string, taskState: string | null, powerState?: number): void {
  s.vmState = vmState;
  s.taskState = taskState;
  if (powerState !== undefined) s.powerState = powerState;
  s.status = serverStatus(vmState, taskState);
  s.updatedAt = world.now();
}

function serverLinks(world: World, id: string): unknown[] {
  return [
    { href: `${world.baseUrl}/compute/v2.1/servers/${id}`, rel: 'self' },
    { href: `${world.baseUrl}/compute/servers/${id}`, rel: 'bookmark' },
  ];
}

function macOf(ip: string): string {
  const parts = ip.split('.').map((p) => Number(p).toString(16).padStart(2, '0'));
  return `fa:16:3e:${parts.slice(1).join(':')}`;
}

/** The detailed server view (`GET /servers/{id}`, `/servers/detail`), with each microversion's fields. */
export function serverView(world: World, s: ServerRecord, mv: Microversion | undefined): Record<string, unknown> {
  const flavor = findFlavor(world, s.flavorId);
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: createHash('sha224').update(`${s.projectId}${COMPUTE_HOST}`).digest('hex'),
    image: s.imageId === '' ? '' : { id: s.imageId, links: [{ href: `${world.baseUrl}/compute/images/${s.imageId}`, rel: 'bookmark' }] },
    flavor: atLeast(mv, '2.47')
      ? {
          vcpus: flavor?.vcpus ?? 1,
          ram: flavor?.ram ?? 512,
          disk: flavor?.disk ?? 1,
          ephemeral: 0,
          swap: 0,
          original_name: flavor?.name ?? s.flavorId,
          extra_specs: {},
        }
      : { id: s.flavorId, links: [{ href: `${world.baseUrl}/compute/flavors/${s.flavorId}`, rel: 'bookmark' }] },
    created: novaTime(s.createdAt),
    updated: novaTime(s.updatedAt),
    addresses: s.addresses.length
      ? { private: s.addresses.map((addr) => ({ addr, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': macOf(addr) })) }
      : {},
    accessIPv4: '',
    accessIPv6: '',
    links: serverLinks(world, s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': s.availabilityZone,
    config_drive: s.configDrive ? 'True' : '',
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': s.launchedAt === undefined ? null : novaUsageTime(s.launchedAt),
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': s.bdms.map((b) =>
      atLeast(mv, '2.3') ? { id: b.volumeId, delete_on_termination: b.deleteOnTermination } : { id: b.volumeId },
    ),
  };
  if (['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING'].includes(s.status)) out.progress = 0;
  if (s.securityGroups.length) out.security_groups = s.securityGroups.map((name) => ({ name }));
  if (s.fault && (s.status === 'ERROR' || s.status === 'DELETED')) {
    out.fault = { code: s.fault.code, created: novaTime(s.fault.created), message: s.fault.message };
  }
  if (atLeast(mv, '2.9')) out.locked = false;
  if (atLeast(mv, '2.19')) out.description = s.description;
  if (atLeast(mv, '2.26')) out.tags = [...s.tags];
  if (atLeast(mv, '2.63')) out.trusted_image_certificates = null;
  if (atLeast(mv, '2.73')) out.locked_reason = null;
  if (atLeast(mv, '2.90')) out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
  return out;
}

/** `GET /servers` (without `detail`): id, name and links. */
export function serverSummary(world: World, s: ServerRecord): Record<string, unknown> {
  return { id: s.id, links: serverLinks(world, s.id), name: s.name };
}

/**
 * One volume attachment as `os-volume_attachments` GET shows it: `id` until 2.88, then
 * `attachment_id` and `bdm_uuid` instead; `tag` from 2.70; `delete_on_termination` from 2.79.
 */
export function attachmentView(world: World, s: ServerRecord, b: BdmRecord, mv: Microversion | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { device: b.device, serverId: s.id, volumeId: b.volumeId };
  if (atLeast(mv, '2.89')) {
    out.attachment_id = world.store.volumes.get(b.volumeId)?.attachment?.id ?? null;
    out.bdm_uuid = b.uuid;
  } else {
    out.id = b.volumeId;
  }
  if (atLeast(mv, '2.70')) out.tag = b.tag;
  if (atLeast(mv, '2.79')) out.delete_on_termination = b.deleteOnTermination;
  return out;
}

/** The next free `/dev/vdX` name on a server. */
export function nextDeviceName(used: Iterable<string>): string {
  const taken = new Set(used);
  for (let i = 0; i < 26; i++) {
    const name = `/dev/vd${String.fromCharCode(97 + i)}`;
    if (!taken.has(name)) return name;
  }
  return `/dev/vd${taken.size}`;
}
