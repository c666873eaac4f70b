export { findVolumeType, listVolumeTypes } from './requests.js';
export { volumeTypeSchema, type VolumeType } from './schemas.js';
