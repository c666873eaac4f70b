import { z } from 'zod';
import { DATASWAP_PROPERTIES, IMAGE_ROLES } from './properties.js';
import {
  CONTAINER_FORMATS,
  CORE_IMAGE_ATTRIBUTES,
  DISK_FORMATS,
  IMAGE_STATUSES,
  VISIBILITIES,
} from './schemas.js';

/** Glance's image id pattern (any 8-4-4-4-12 hex, not only RFC 4122 UUIDs). */
export const IMAGE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A non-empty path segment value (ids, tags). */
export const imageIdSchema = z.string().min(1, 'must not be empty').max(255);

/** A tag: Glance stores up to 255 characters. */
export const tagSchema = z.string().min(1, 'must not be empty').max(255);

/** An idempotency token, stored as the `dataswap_client_token` property. */
export const clientTokenSchema = z.string().min(1).max(255);

/** An extra property name the caller may set: not a Glance attribute, not reserved, not ours. */
const propertyNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((k) => !CORE_IMAGE_ATTRIBUTES.has(k), {
    message: 'is a Glance image attribute, not an extra property',
  })
  .refine((k) => !k.startsWith('os_glance'), { message: 'the os_glance namespace is reserved by Glance' })
  .refine((k) => !DATASWAP_PROPERTIES.has(k), { message: 'is set through `role` or `clientToken`' });

/** Extra properties: Glance stores them as strings at the top level of the image. */
export const propertiesSchema = z.record(z.string(), z.string()).superRefine((props, ctx) => {
  for (const key of Object.keys(props)) {
    const r = propertyNameSchema.safeParse(key);
    if (!r.success)
      for (const issue of r.error.issues)
        ctx.addIssue({ code: 'custom', path: [key], message: issue.message });
  }
});

/** Input of {@link createImage}: `POST /v2/images`. */
export const createImageInputSchema = z.strictObject({
  name: z.string().min(1).max(255),
  /** The default formats of `[image_format]`; a cloud may restrict them further. */
  diskFormat: z.enum(DISK_FORMATS),
  containerFormat: z.enum(CONTAINER_FORMATS).default('bare'),
  /** Glance's default is `shared` since Ocata (v2.5). */
  visibility: z.enum(VISIBILITIES).optional(),
  tags: z.array(tagSchema).optional(),
  /** GiB and MiB needed to boot the image. */
  minDisk: z.number().int().nonnegative().optional(),
  minRam: z.number().int().nonnegative().optional(),
  protected: z.boolean().optional(),
  /** v2.7 (Rocky): hide from the default list. */
  osHidden: z.boolean().optional(),
  /** Ask for a specific id (Glance accepts a caller-chosen UUID). */
  id: z.string().regex(IMAGE_ID_PATTERN, 'must be a UUID').optional(),
  /** Software image (boot volume source) or startup image (initial data): `dataswap_role`. */
  role: z.enum(IMAGE_ROLES).optional(),
  /** Stored as `dataswap_client_token` so a retry can find the image; see `findImageByClientToken`. */
  clientToken: clientTokenSchema.optional(),
  properties: propertiesSchema.optional(),
});
/** What {@link createImage} takes (camelCase; sent as Glance's snake_case attributes). */
export type CreateImageInput = z.input<typeof createImageInputSchema>;

/** Filters of {@link listImages}: `GET /v2/images`. Every filter is exact. */
export const listImagesInputSchema = z.strictObject({
  name: z.string().min(1).max(255).optional(),
  status: z.enum(IMAGE_STATUSES).optional(),
  /** `all` lists every image the caller can see, whatever its visibility. */
  visibility: z.enum([...VISIBILITIES, 'all']).optional(),
  /** One tag or several (repeated `tag=`): an image must carry all of them. */
  tag: z.union([tagSchema, z.array(tagSchema)]).optional(),
  owner: z.string().min(1).optional(),
  diskFormat: z.enum(DISK_FORMATS).optional(),
  containerFormat: z.enum(CONTAINER_FORMATS).optional(),
  /** Shared images: membership status to include; Glance's default is `accepted`. */
  memberStatus: z.enum(['accepted', 'pending', 'rejected', 'all']).optional(),
  protected: z.boolean().optional(),
  /** v2.7: `true` lists only hidden images; the default lists only visible ones. */
  osHidden: z.boolean().optional(),
  sizeMin: z.number().int().nonnegative().optional(),
  sizeMax: z.number().int().nonnegative().optional(),
  /** Images of this dataswap role (`dataswap_role` property). */
  role: z.enum(IMAGE_ROLES).optional(),
  /** Images created with this token (`dataswap_client_token` property). */
  clientToken: clientTokenSchema.optional(),
  /** Exact matches on other extra properties. */
  properties: propertiesSchema.optional(),
  /** `key[:asc|desc],…` over name, status, container_format, disk_format, size, id, created_at, updated_at. */
  sort: z
    .string()
    .regex(
      /^(name|status|container_format|disk_format|size|id|created_at|updated_at)(:(asc|desc))?(,(name|status|container_format|disk_format|size|id|created_at|updated_at)(:(asc|desc))?)*$/,
      'must be key[:asc|desc],… over name, status, container_format, disk_format, size, id, created_at, updated_at',
    )
    .optional(),
  /** Page size (Glance caps it at `api_limit_max`, 1000 by default); every page is read anyway. */
  limit: z.number().int().min(1).max(1000).optional(),
});
/** What {@link listImages} takes; every field is an exact filter. */
export type ListImagesInput = z.input<typeof listImagesInputSchema>;

/** Options of {@link findImage}. */
export const findImageInputSchema = z.strictObject({
  /** Only an image of this role matches. */
  role: z.enum(IMAGE_ROLES).optional(),
});
/** What {@link findImage} takes besides the name or id. */
export type FindImageInput = z.input<typeof findImageInputSchema>;

const patchValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);

/**
 * One change of {@link updateImage}: an attribute (`name`, `min_disk`, `protected`…) or an extra
 * property, by name. With the v2.1 JSON-patch media type `add` sets a value whether or not it
 * exists; `replace` and `remove` of a missing property answer 409.
 */
export const imagePatchOpSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), attribute: z.string().min(1).max(255), value: patchValueSchema }),
  z.strictObject({
    op: z.literal('replace'),
    attribute: z.string().min(1).max(255),
    value: patchValueSchema,
  }),
  z.strictObject({ op: z.literal('remove'), attribute: z.string().min(1).max(255) }),
]);
/** One change for {@link updateImage}. */
export type ImagePatchOp = z.input<typeof imagePatchOpSchema>;
/** A non-empty list of changes, applied by Glance in order and saved together. */
export const imagePatchSchema = z.array(imagePatchOpSchema).min(1, 'at least one change');
