import { NotFoundError } from '../../core/errors.js';
import type { ServiceClient } from '../../core/service-client.js';
import { waitFor, waitForDeletion, type PollOptions } from '../../core/waiter.js';
import { getVolumeAttachment } from './requests.js';
import type { VolumeAttachment } from './schemas.js';

/**
 * Waiters on a server's attachment list. Each poll reads the one entry for the volume
 * (`GET …/os-volume_attachments/{volume_id}`), which is the list narrowed to that volume: present
 * while Nova holds a block device mapping for it, 404 once the mapping is gone. Nova's view says the
 * volume is (being) attached; combine these with Cinder's volume status (`in-use` / `available`) to
 * know the hypervisor side finished.
 */

/**
 * Waits until the volume appears in the server's attachments.
 *
 * @returns the attachment.
 * @throws {WaitTimeoutError}; {@link AbortedError}; the HTTP errors other than 404.
 */
export async function waitForVolumeAttached(
  client: ServiceClient,
  serverId: string,
  volumeId: string,
  opts: PollOptions = {},
): Promise<VolumeAttachment> {
  const found = await waitFor(
    async (signal) => {
      try {
        return await getVolumeAttachment(client, serverId, volumeId, { signal });
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    {
      ...opts,
      resource: `attachment of volume ${volumeId} to server ${serverId}`,
      status: (a) => (a ? 'attached' : 'not attached'),
      until: (a) => a !== undefined,
    },
  );
  // `until` only lets a found attachment through.
  return found as VolumeAttachment;
}

/**
 * Waits until the volume is gone from the server's attachments (Nova finished the detach, or the
 * server itself is gone).
 *
 * @throws {WaitTimeoutError}; {@link AbortedError}; the HTTP errors other than 404.
 */
export function waitForVolumeDetached(
  client: ServiceClient,
  serverId: string,
  volumeId: string,
  opts: PollOptions = {},
): Promise<void> {
  return waitForDeletion((signal) => getVolumeAttachment(client, serverId, volumeId, { signal }), {
    ...opts,
    resource: `attachment of volume ${volumeId} to server ${serverId}`,
    status: () => 'attached',
  });
}
