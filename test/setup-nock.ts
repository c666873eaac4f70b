// Each test file loads its own nock, but node:http is shared by every file in a worker: restore
// the interceptors after each file so the next file's nock starts from a clean http module.
import { afterAll } from '@jest/globals';
import nock from 'nock';

afterAll(() => {
  nock.cleanAll();
  nock.restore();
});
