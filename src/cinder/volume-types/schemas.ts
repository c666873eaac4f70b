/** Volume type response schemas (Block Storage API reference, "Volume types (types)"; cinder/api/views/types.py). */
import { z } from 'zod';

/** One volume type as a project member sees it. */
export const volumeTypeSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable().optional(),
  is_public: z.boolean().optional(),
  /** Only the user-visible extra specs for a non-admin (e.g. `multiattach`). */
  extra_specs: z.record(z.string(), z.string()).nullable().optional(),
});

/** A Cinder volume type. */
export type VolumeType = z.infer<typeof volumeTypeSchema>;

/** The types list has no `volume_types_links`: Cinder pages it by `limit`/`marker` silently. */
export const volumeTypeListSchema = z.looseObject({ volume_types: z.array(volumeTypeSchema) });
