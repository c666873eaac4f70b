import type { CallOptions, ServiceClient } from '../core/service-client.js';
import type { PollOptions } from '../core/waiter.js';
import { createImageFromData, type CreateImageFromDataOptions } from './images/create-from-data.js';
import type { CreateImageInput, FindImageInput, ImagePatchOp, ListImagesInput } from './images/inputs.js';
import {
  addImageTag,
  createImage,
  deleteImage,
  findImage,
  findImageByClientToken,
  getImage,
  listImages,
  removeImageTag,
  updateImage,
  uploadImageData,
} from './images/requests.js';
import type { Image } from './images/schemas.js';
import type { ImageData, UploadDigest } from './images/upload-body.js';
import { waitForImageActive, waitForImageDeleted } from './images/waiters.js';

/** `glance.images`: the image calls bound to one service client; each delegates to the function of the same name. */
export class GlanceImages {
  constructor(private readonly client: ServiceClient) {}

  /** {@link getImage}. */
  get(imageId: string, opts?: CallOptions): Promise<Image> {
    return getImage(this.client, imageId, opts);
  }

  /** {@link findImage}: one image by id or exact name, optionally of one role. */
  find(nameOrId: string, input?: FindImageInput, opts?: CallOptions): Promise<Image> {
    return findImage(this.client, nameOrId, input, opts);
  }

  /** {@link findImageByClientToken}. */
  findByClientToken(clientToken: string, opts?: CallOptions): Promise<Image | undefined> {
    return findImageByClientToken(this.client, clientToken, opts);
  }

  /** {@link listImages}: every page, as an async iterator. */
  list(filters?: ListImagesInput, opts?: CallOptions): AsyncGenerator<Image, void, undefined> {
    return listImages(this.client, filters, opts);
  }

  /** {@link createImage}: registers an image without data. */
  create(input: CreateImageInput, opts?: CallOptions): Promise<Image> {
    return createImage(this.client, input, opts);
  }

  /** {@link uploadImageData}: sends the data, hashing it. */
  upload(imageId: string, data: ImageData, opts?: CallOptions): Promise<UploadDigest> {
    return uploadImageData(this.client, imageId, data, opts);
  }

  /** {@link createImageFromData}: create, upload, wait, verify; cleans up on failure. */
  createFromData(
    input: CreateImageInput,
    data: ImageData,
    opts?: CreateImageFromDataOptions,
  ): Promise<Image> {
    return createImageFromData(this.client, input, data, opts);
  }

  /** {@link updateImage}: a JSON-patch of attributes and properties. */
  update(imageId: string, changes: readonly ImagePatchOp[], opts?: CallOptions): Promise<Image> {
    return updateImage(this.client, imageId, changes, opts);
  }

  /** {@link addImageTag}. */
  addTag(imageId: string, tag: string, opts?: CallOptions): Promise<void> {
    return addImageTag(this.client, imageId, tag, opts);
  }

  /** {@link removeImageTag}. */
  removeTag(imageId: string, tag: string, opts?: CallOptions): Promise<void> {
    return removeImageTag(this.client, imageId, tag, opts);
  }

  /** {@link deleteImage}: 404 counts as deleted. */
  delete(imageId: string, opts?: CallOptions): Promise<void> {
    return deleteImage(this.client, imageId, opts);
  }

  /** {@link waitForImageActive}. */
  waitForActive(imageId: string, opts?: PollOptions): Promise<Image> {
    return waitForImageActive(this.client, imageId, opts);
  }

  /** {@link waitForImageDeleted}. */
  waitForDeleted(imageId: string, opts?: PollOptions): Promise<void> {
    return waitForImageDeleted(this.client, imageId, opts);
  }
}

/**
 * The Image service (Glance v2; no microversions) over one `ServiceClient`, e.g.
 * `new GlanceClient(cloud.services.image)`. The endpoint may be the bare root from the catalog
 * (`http://host:9292`) or end in `/v2`.
 */
export class GlanceClient {
  /** Images: find, list, create and upload, wait, verify, tag, patch, delete. */
  readonly images: GlanceImages;

  constructor(readonly service: ServiceClient) {
    this.images = new GlanceImages(service);
  }
}
