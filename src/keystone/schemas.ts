import { z } from 'zod';

/** Keystone v3 `POST /auth/tokens` response (identity API v3, `token` object). */
export const endpointSchema = z.looseObject({
  id: z.string().optional(),
  interface: z.enum(['public', 'internal', 'admin']),
  region: z.string().nullable().optional(),
  region_id: z.string().nullable().optional(),
  url: z.string(),
});

export const catalogEntrySchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  id: z.string().optional(),
  endpoints: z.array(endpointSchema),
});

export const tokenResponseSchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    methods: z.array(z.string()),
    user: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
    project: z
      .looseObject({
        id: z.string(),
        name: z.string().optional(),
        domain: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
      })
      .optional(),
    roles: z.array(z.looseObject({ id: z.string(), name: z.string() })).optional(),
    catalog: z.array(catalogEntrySchema).optional(),
  }),
});

export type Endpoint = z.infer<typeof endpointSchema>;
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type TokenResponse = z.infer<typeof tokenResponseSchema>;
