import type { ServiceClient } from '../../core/service-client.js';
import { waitFor, waitForDeletion, type PollOptions } from '../../core/waiter.js';
import { getServer } from './requests.js';
import type { Server, ServerStatus } from './schemas.js';

const faultOf = (s: Server): string | undefined => s.fault?.message;

/** The status, with the running task if any (`BUILD/spawning`), so a timeout says where it stuck. */
const statusOf = (s: Server): string => {
  const task = s['OS-EXT-STS:task_state'];
  return task ? `${s.status}/${task}` : s.status;
};

/**
 * Polls the server until its status is one of `status`. ERROR ends the wait at once with the
 * server's `fault.message` (unless ERROR is what the caller waits for).
 *
 * @returns the server as last read.
 * @throws {ResourceFailedError} on ERROR; {@link WaitTimeoutError} naming the last status;
 * {@link AbortedError}; {@link NotFoundError} when the server disappears; the HTTP errors.
 */
export async function waitForServerStatus(
  client: ServiceClient,
  serverId: string,
  status: ServerStatus | readonly ServerStatus[],
  opts: PollOptions = {},
): Promise<Server> {
  const wanted: readonly string[] = typeof status === 'string' ? [status] : status;
  return waitFor((signal) => getServer(client, serverId, { signal }), {
    ...opts,
    resource: `server ${serverId}`,
    status: statusOf,
    // A server that reached a wanted status but still runs a task (e.g. ACTIVE while `deleting`) is mid-transition.
    until: (s) => wanted.includes(s.status) && !s['OS-EXT-STS:task_state'],
    failWhen: (s) => s.status === 'ERROR' && !wanted.includes('ERROR'),
    fault: faultOf,
  });
}

/**
 * Waits until the server is ACTIVE with no task running (after create, reboot…).
 *
 * @throws {ResourceFailedError} on ERROR, with the server's fault message; {@link WaitTimeoutError};
 * {@link AbortedError}; {@link NotFoundError}; the HTTP errors.
 */
export function waitForServerActive(
  client: ServiceClient,
  serverId: string,
  opts: PollOptions = {},
): Promise<Server> {
  return waitForServerStatus(client, serverId, 'ACTIVE', opts);
}

/**
 * Waits until `GET /servers/{id}` answers 404. A server shown as DELETED or SOFT_DELETED is not yet
 * gone (a soft-deleted server can still be restored, and is reclaimed later). ERROR with no task
 * running means the delete failed and ends the wait; ERROR while the `deleting` task runs is a
 * failed server being deleted, which is fine.
 *
 * @throws {ResourceFailedError} on ERROR; {@link WaitTimeoutError} (e.g. still SOFT_DELETED);
 * {@link AbortedError}; the HTTP errors.
 */
export function waitForServerDeleted(
  client: ServiceClient,
  serverId: string,
  opts: PollOptions = {},
): Promise<void> {
  return waitForDeletion((signal) => getServer(client, serverId, { signal }), {
    ...opts,
    resource: `server ${serverId}`,
    status: statusOf,
    failWhen: (s) => s.status === 'ERROR' && !s['OS-EXT-STS:task_state'],
    fault: faultOf,
  });
}
