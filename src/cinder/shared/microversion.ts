import type { Microversion } from '../../core/microversion.js';
import type { ServiceClient } from '../../core/service-client.js';

/** Cinder v3 without a negotiated microversion behaves as the base version. */
const BASE: Microversion = [3, 0];

/** The microversion this client sends (3.0 when none was negotiated). */
export function volumeMicroversion(client: ServiceClient): Microversion {
  return client.microversion ?? BASE;
}
