import { ImageChecksumMismatchError } from './errors.js';
import type { Image } from './schemas.js';
import type { UploadDigest } from './upload-body.js';

/**
 * Checks that an active image holds exactly what was sent: its `size`, its multihash when the
 * algorithm is sha512 (`os_hash_algo`/`os_hash_value`, v2.7) and its md5 `checksum`, each when
 * Glance reports it; at least one hash must be there.
 *
 * @throws {ImageChecksumMismatchError} on any difference, or when Glance reports neither a sha512
 * nor an md5 to check.
 */
export function verifyImageData(image: Image, sent: UploadDigest): void {
  if (typeof image.size === 'number' && image.size !== sent.bytes) {
    throw new ImageChecksumMismatchError(image.id, 'size', String(sent.bytes), String(image.size));
  }
  const sha512 =
    image.os_hash_algo?.toLowerCase() === 'sha512' ? image.os_hash_value?.toLowerCase() : undefined;
  const md5 = image.checksum?.toLowerCase() || undefined;
  if (sha512 && sha512 !== sent.sha512)
    throw new ImageChecksumMismatchError(image.id, 'sha512', sent.sha512, sha512);
  if (md5 && md5 !== sent.md5) throw new ImageChecksumMismatchError(image.id, 'md5', sent.md5, md5);
  if (!sha512 && !md5) throw new ImageChecksumMismatchError(image.id, 'none', sent.sha512, undefined);
}
