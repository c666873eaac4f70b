import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { AbortedError, NotFoundError, ResourceFailedError, WaitTimeoutError } from '../../src/core/errors.js';
import { waitForServerActive, waitForServerDeleted, waitForServerStatus } from '../../src/nova/index.js';
import {
  computeApi,
  computeClient,
  fastPoll,
  lockNetwork,
  rejectionOf,
  serverBody,
} from '../helpers/nova.js';

lockNetwork({ beforeAll, afterEach });

const ID = '0e44cc9c-e052-415d-afbf-469b0d384170';
const PATH = `/servers/${ID}`;
const state = (status: string, task: string | null = null, extra: Record<string, unknown> = {}) =>
  serverBody({ status, 'OS-EXT-STS:task_state': task, ...extra });
const notFound = { itemNotFound: { code: 404, message: `Instance ${ID} could not be found.` } };

describe('waitForServerActive', () => {
  it('polls through BUILD and a running task until ACTIVE with no task', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('BUILD', 'spawning'))
      .get(PATH)
      .reply(200, state('ACTIVE', 'powering-on'))
      .get(PATH)
      .reply(200, state('ACTIVE'));
    const progress: (string | undefined)[] = [];
    const server = await waitForServerActive(computeClient(), ID, {
      ...fastPoll,
      onProgress: (p) => progress.push(p.status),
    });
    scope.done();
    expect(server.status).toBe('ACTIVE');
    expect(progress).toEqual(['BUILD/spawning', 'ACTIVE/powering-on', 'ACTIVE']);
  });

  it('fails at once on ERROR with the fault message', async () => {
    const fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.' };
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('BUILD', 'scheduling'))
      .get(PATH)
      .reply(200, state('ERROR', null, { fault }));
    const err = await rejectionOf(waitForServerActive(computeClient(), ID, fastPoll));
    scope.done();
    expect(err).toBeInstanceOf(ResourceFailedError);
    expect((err as ResourceFailedError).status).toBe('ERROR');
    expect((err as ResourceFailedError).fault).toBe(fault.message);
  });

  it('times out naming the last status', async () => {
    const scope = computeApi().persist().get(PATH).reply(200, state('BUILD', 'block_device_mapping'));
    const err = await rejectionOf(waitForServerActive(computeClient(), ID, { ...fastPoll, timeoutMs: 40 }));
    scope.done();
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('BUILD/block_device_mapping');
  });

  it('stops with AbortedError when the signal fires', async () => {
    const controller = new AbortController();
    const scope = computeApi()
      .get(PATH)
      .reply(200, () => {
        controller.abort();
        return state('BUILD', 'spawning');
      });
    const err = await rejectionOf(
      waitForServerActive(computeClient(), ID, { ...fastPoll, signal: controller.signal }),
    );
    scope.done();
    expect(err).toBeInstanceOf(AbortedError);
  });

  it('throws NotFoundError when the server disappears', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('BUILD', 'spawning'))
      .get(PATH)
      .reply(404, notFound);
    await expect(waitForServerActive(computeClient(), ID, fastPoll)).rejects.toBeInstanceOf(NotFoundError);
    scope.done();
  });
});

describe('waitForServerStatus', () => {
  it('waits for any of several statuses', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('ACTIVE', 'powering-off'))
      .get(PATH)
      .reply(200, state('SHUTOFF'));
    const server = await waitForServerStatus(computeClient(), ID, ['SHUTOFF', 'SUSPENDED'], fastPoll);
    scope.done();
    expect(server.status).toBe('SHUTOFF');
  });

  it('treats ERROR as success when ERROR is what the caller waits for', async () => {
    const scope = computeApi().get(PATH).reply(200, state('ERROR'));
    const server = await waitForServerStatus(computeClient(), ID, 'ERROR', fastPoll);
    scope.done();
    expect(server.status).toBe('ERROR');
  });
});

describe('waitForServerDeleted', () => {
  it('succeeds on 404 after the deleting task', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('ACTIVE', 'deleting'))
      .get(PATH)
      .reply(404, notFound);
    await expect(waitForServerDeleted(computeClient(), ID, fastPoll)).resolves.toBeUndefined();
    scope.done();
  });

  it('does not count DELETED as deleted until the server 404s', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('DELETED'))
      .get(PATH)
      .reply(200, state('DELETED'))
      .get(PATH)
      .reply(404, notFound);
    const seen: (string | undefined)[] = [];
    await waitForServerDeleted(computeClient(), ID, { ...fastPoll, onProgress: (p) => seen.push(p.status) });
    scope.done();
    expect(seen).toEqual(['DELETED', 'DELETED']);
  });

  it('times out on a server that stays SOFT_DELETED', async () => {
    const scope = computeApi().persist().get(PATH).reply(200, state('SOFT_DELETED'));
    const err = await rejectionOf(waitForServerDeleted(computeClient(), ID, { ...fastPoll, timeoutMs: 40 }));
    scope.done();
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('SOFT_DELETED');
  });

  it('keeps waiting while a failed server is being deleted (ERROR/deleting)', async () => {
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('ERROR', 'deleting'))
      .get(PATH)
      .reply(404, notFound);
    await expect(waitForServerDeleted(computeClient(), ID, fastPoll)).resolves.toBeUndefined();
    scope.done();
  });

  it('fails on ERROR with no task: the delete failed', async () => {
    const fault = { code: 500, message: 'Failed to delete volume' };
    const scope = computeApi()
      .get(PATH)
      .reply(200, state('ACTIVE', 'deleting'))
      .get(PATH)
      .reply(200, state('ERROR', null, { fault }));
    const err = await rejectionOf(waitForServerDeleted(computeClient(), ID, fastPoll));
    scope.done();
    expect(err).toBeInstanceOf(ResourceFailedError);
    expect((err as ResourceFailedError).fault).toBe('Failed to delete volume');
  });

  it('stops with AbortedError when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejectionOf(
      waitForServerDeleted(computeClient(), ID, { ...fastPoll, signal: controller.signal }),
    );
    expect(err).toBeInstanceOf(AbortedError);
  });
});
