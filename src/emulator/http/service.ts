import type { Route } from './context.js';
import type { ServiceName } from './error-format.js';

/** One emulated service: where it lives and what it answers. */
export interface ServiceDefinition {
  name: ServiceName;
  /** Path prefix, e.g. `/compute`. */
  prefix: string;
  routes: readonly Route[];
  /** The microversion family its authenticated routes honour. */
  microversion?: 'compute' | 'volume';
  /** The 400 message for a body that is not JSON. */
  malformedBodyMessage: string;
  /** The path parameter that must equal the token's project (Cinder's `/v3/{project_id}/…`). */
  projectParam?: string;
}
