import { AbortedError } from '../core/errors.js';
import { GuestOperationError } from './errors.js';

/**
 * Runs one step of a flow; a failure comes out as a {@link GuestOperationError} naming the flow,
 * the step and the request id (an abort stays an abort; an error already naming its step passes).
 */
export async function runStep<T>(
  operation: string,
  step: string,
  guestId: string,
  run: () => Promise<T>,
  rolledBack = false,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof GuestOperationError || err instanceof AbortedError) throw err;
    throw new GuestOperationError(operation, step, guestId, rolledBack, err);
  }
}
