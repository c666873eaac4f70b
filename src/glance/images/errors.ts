import { DataswapError } from '../../core/errors.js';

/** No image matched a name or id (after every page was read). */
export class ImageNotFoundError extends DataswapError {
  /** The name or id that was looked for. */
  readonly nameOrId: string;
  constructor(nameOrId: string, detail = '') {
    super('IMAGE_NOT_FOUND', `no image named or with id "${nameOrId}"${detail}`);
    this.nameOrId = nameOrId;
  }
}

/** Several images matched a name (or a client token) where exactly one was expected. */
export class AmbiguousImageError extends DataswapError {
  readonly nameOrId: string;
  /** The ids of every match, so the caller can pick one by id. */
  readonly matches: readonly string[];
  constructor(nameOrId: string, matches: readonly string[]) {
    super(
      'IMAGE_AMBIGUOUS',
      `${matches.length} images match "${nameOrId}": ${matches.join(', ')}; use an id`,
    );
    this.nameOrId = nameOrId;
    this.matches = matches;
  }
}

/** What Glance stored is not what was sent: the hash or the size differs, or there is no hash to check. */
export class ImageChecksumMismatchError extends DataswapError {
  readonly imageId: string;
  /** `sha512`, `md5` or `size`: what was compared; `none` when Glance reported no usable hash. */
  readonly algorithm: string;
  readonly expected: string;
  readonly actual: string | undefined;
  constructor(imageId: string, algorithm: string, expected: string, actual: string | undefined) {
    super(
      'IMAGE_CHECKSUM_MISMATCH',
      algorithm === 'none'
        ? `image ${imageId} is active but Glance reports no sha512 or md5 to verify the upload against`
        : `image ${imageId}: ${algorithm} of the stored data is ${actual ?? 'missing'}, expected ${expected}`,
    );
    this.imageId = imageId;
    this.algorithm = algorithm;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Glance answered an upload before the whole body was sent, so what it stored cannot be trusted. */
export class ImageUploadIncompleteError extends DataswapError {
  readonly imageId: string;
  /** Bytes that had passed when the answer came. */
  readonly bytesSent: number;
  constructor(imageId: string, bytesSent: number) {
    super(
      'IMAGE_UPLOAD_INCOMPLETE',
      `image ${imageId}: the upload was answered after only ${bytesSent} bytes were sent`,
    );
    this.imageId = imageId;
    this.bytesSent = bytesSent;
  }
}

/**
 * A create-and-upload failed and the half-made image could not be deleted either: it is left
 * behind. `cause` is the original failure; `cleanupError` why the delete failed.
 */
export class ImageCleanupError extends DataswapError {
  /** The image left behind (undefined when even its id is unknown, e.g. a create that timed out). */
  readonly imageId: string | undefined;
  readonly cleanupError: unknown;
  constructor(imageId: string | undefined, cause: unknown, cleanupError: unknown) {
    const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));
    super(
      'IMAGE_CLEANUP_FAILED',
      `image ${imageId ?? '(id unknown)'} was left behind: creating it failed (${why(cause)}) and deleting it failed too (${why(cleanupError)})`,
      { cause },
    );
    this.imageId = imageId;
    this.cleanupError = cleanupError;
  }
}

/** True for an {@link ImageNotFoundError}. */
export const isImageNotFound = (e: unknown): e is ImageNotFoundError => e instanceof ImageNotFoundError;
/** True for an {@link AmbiguousImageError}. */
export const isAmbiguousImage = (e: unknown): e is AmbiguousImageError => e instanceof AmbiguousImageError;
/** True for an {@link ImageChecksumMismatchError}. */
export const isImageChecksumMismatch = (e: unknown): e is ImageChecksumMismatchError =>
  e instanceof ImageChecksumMismatchError;
