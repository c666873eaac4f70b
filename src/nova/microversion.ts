import { atLeast, requireMicroversion, type Microversion } from '../core/microversion.js';
import type { ServiceClient } from '../core/service-client.js';

/** What Nova assumes when a request names no microversion. */
const BASE_COMPUTE_MICROVERSION: Microversion = [2, 1];

/** The compute microversion `client` sends (2.1 when it was built without one). */
export function computeMicroversion(client: ServiceClient): Microversion {
  return client.microversion ?? BASE_COMPUTE_MICROVERSION;
}

/** Whether `client` negotiated at least compute microversion `version`. */
export function computeAtLeast(client: ServiceClient, version: string): boolean {
  return atLeast(computeMicroversion(client), version);
}

/**
 * Fails before any request when `feature` needs a newer compute microversion than `client` sends.
 *
 * @throws {MicroversionError}
 */
export function requireCompute(client: ServiceClient, version: string, feature: string): void {
  requireMicroversion('compute', computeMicroversion(client), version, feature);
}
