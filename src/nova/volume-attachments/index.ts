export {
  attachVolume,
  detachVolume,
  getVolumeAttachment,
  listVolumeAttachments,
  type AttachmentCallOptions,
  type AttachVolumeInput,
} from './requests.js';
export {
  volumeAttachmentListResponseSchema,
  volumeAttachmentResponseSchema,
  volumeAttachmentSchema,
  type VolumeAttachment,
} from './schemas.js';
export {
  defaultTransitionRetry,
  isTransitionConflict,
  retryWhileInTransition,
  type TransitionRetryOptions,
} from './transition-retry.js';
export { waitForVolumeAttached, waitForVolumeDetached } from './waiters.js';
