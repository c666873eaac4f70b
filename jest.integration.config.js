/** Integration tests: against a real OpenStack named by OS_CLOUD (see test/integration/run.mjs). */
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/test/integration'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
