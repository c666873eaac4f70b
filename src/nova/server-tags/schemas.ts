import { z } from 'zod';

/** `GET`/`PUT /servers/{id}/tags` (compute 2.26+): `{"tags": [...]}`. */
export const serverTagsResponseSchema = z.looseObject({ tags: z.array(z.string()) });
