/** The peak RSS of a child that only loads tsx and the library (what every measured TS child starts from). */
import { connect } from '../../src/connect.js';
import { ManagementDevice } from '../../src/management/device.js';
import { emitResult, peakRssMiB } from './child.js';

emitResult({
  loaded: typeof connect === 'function' && typeof ManagementDevice === 'function',
  peakRssMiB: peakRssMiB(),
});
