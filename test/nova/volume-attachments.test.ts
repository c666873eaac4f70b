import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AbortedError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  InputValidationError,
  MicroversionError,
  NotFoundError,
  WaitTimeoutError,
} from '../../src/core/errors.js';
import { collect } from '../../src/core/paginate.js';
import {
  attachVolume,
  defaultTransitionRetry,
  detachVolume,
  getVolumeAttachment,
  isTransitionConflict,
  listVolumeAttachments,
  waitForVolumeAttached,
  waitForVolumeDetached,
} from '../../src/nova/index.js';
import {
  computeApi,
  computeClient,
  fastPoll,
  fastTransitionRetry,
  lockNetwork,
  novaSample,
  rejectionOf,
} from '../helpers/nova.js';

lockNetwork({ beforeAll, afterEach });

const SERVER = '802db873-0373-4bdd-a433-d272a539ba18';
const VOLUME = 'a07f71dc-8151-4e7d-a0cc-cd24a3f11113';
const LIST = `/servers/${SERVER}/os-volume_attachments`;
const ONE = `${LIST}/${VOLUME}`;

const conflict = (message: string) => ({ conflictingRequest: { code: 409, message } });
const badRequest = (message: string) => ({ badRequest: { code: 400, message } });
const BUSY = `Cannot 'attach_volume' instance ${SERVER} while it is in task_state rebooting`;
const RESERVED = `Invalid input received: Invalid volume: Volume ${VOLUME} status must be available or downloading to reserve, but the current status is reserved. (HTTP 400)`;
// As the Zed stack answered a detach issued right after its attach.
const NOT_IN_USE =
  "Invalid volume: Invalid input received: Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach. (HTTP 400) (Request-ID: req-7e2488b4-95a4-4119-b3f4-43386fa75819)";

describe('listVolumeAttachments', () => {
  it.each([
    ['2.1', 'os-volumes/list-volume-attachments-resp.json'],
    ['2.70', 'os-volumes/v2.70/list-volume-attachments-resp.json'],
    ['2.79', 'os-volumes/v2.79/list-volume-attachments-resp.json'],
    ['2.89', 'os-volumes/v2.89/list-volume-attachments-resp.json'],
  ])('normalises the %s sample and reads until an empty page', async (mv, sample) => {
    const body = novaSample<{ volumeAttachments: Record<string, unknown>[] }>(sample);
    const scope = computeApi(mv)
      .get(LIST)
      .reply(200, body)
      .get(LIST)
      .query({ offset: '2' })
      .reply(200, { volumeAttachments: [] });
    const list = await collect(listVolumeAttachments(computeClient(mv), SERVER));
    scope.done();
    expect(list.map((a) => a.volumeId)).toEqual(['227cc671-f30b-4488-96fd-7d0bf13648d8', VOLUME]);
    expect(list[1]!.device).toBe('/dev/sdb');
    expect(list[1]!.serverId).toBe(body.volumeAttachments[1]!.serverId);
    expect(list[1]!.tag).toBe(mv === '2.1' ? undefined : 'foo');
    expect(list[0]!.tag).toBeUndefined();
    expect(list[1]!.deleteOnTermination).toBe(mv === '2.79' || mv === '2.89' ? true : undefined);
    expect(list[1]!.attachmentId).toBe(mv === '2.89' ? 'c5684109-0311-4fca-9814-350e46ab7d2a' : undefined);
    expect(list[1]!.bdmUuid).toBe(mv === '2.89' ? '1aa24536-6fb5-426c-8894-d627f39aa48b' : undefined);
  });

  it('follows offset pages when Nova caps a page below the list length', async () => {
    const { volumeAttachments } = novaSample<{ volumeAttachments: unknown[] }>(
      'os-volumes/list-volume-attachments-resp.json',
    );
    const scope = computeApi()
      .get(LIST)
      .reply(200, { volumeAttachments: [volumeAttachments[0]] })
      .get(LIST)
      .query({ offset: '1' })
      .reply(200, { volumeAttachments: [volumeAttachments[1]] })
      .get(LIST)
      .query({ offset: '2' })
      .reply(200, { volumeAttachments: [] });
    const list = await collect(listVolumeAttachments(computeClient(), SERVER));
    scope.done();
    expect(list).toHaveLength(2);
  });
});

describe('getVolumeAttachment', () => {
  it('normalises the 2.89 sample (no id; attachment_id and bdm_uuid)', async () => {
    const scope = computeApi('2.89')
      .get(ONE)
      .reply(200, novaSample('os-volumes/v2.89/volume-attachment-detail-resp.json'));
    const a = await getVolumeAttachment(computeClient('2.89'), SERVER, VOLUME);
    scope.done();
    expect(a).toEqual({
      volumeId: VOLUME,
      serverId: '7ebed2ce-85b3-40b5-84ae-8cc725c37ed2',
      device: '/dev/sdb',
      attachmentId: '721a5c82-5ebc-4c6a-8339-3d33d8d027ed',
      bdmUuid: 'c088db45-92b8-49e8-81e2-a1b77a144b3b',
      tag: 'foo',
      deleteOnTermination: true,
    });
  });

  it('throws NotFoundError when the volume is not attached', async () => {
    const scope = computeApi()
      .get(ONE)
      .reply(404, { itemNotFound: { code: 404, message: 'is not attached' } });
    await expect(getVolumeAttachment(computeClient(), SERVER, VOLUME)).rejects.toBeInstanceOf(NotFoundError);
    scope.done();
  });
});

describe('attachVolume', () => {
  it('posts tag and delete_on_termination at 2.79 and accepts 200 (not 202)', async () => {
    const req = novaSample('os-volumes/v2.79/attach-volume-to-server-req.json');
    const scope = computeApi('2.79')
      .post(LIST, req)
      .reply(200, novaSample('os-volumes/v2.79/attach-volume-to-server-resp.json'));
    const a = await attachVolume(computeClient('2.79'), SERVER, {
      volumeId: VOLUME,
      tag: 'foo',
      deleteOnTermination: true,
    });
    scope.done();
    expect(a).toEqual({
      volumeId: VOLUME,
      serverId: '09b3b9d1-b8c5-48e1-841d-62c3ef967a88',
      device: '/dev/sdb',
      tag: 'foo',
      deleteOnTermination: true,
    });
  });

  it('posts volumeId and device at 2.1', async () => {
    const req = novaSample('os-volumes/attach-volume-to-server-req.json');
    const scope = computeApi('2.1')
      .post(LIST, req)
      .reply(200, novaSample('os-volumes/attach-volume-to-server-resp.json'));
    const a = await attachVolume(computeClient('2.1'), SERVER, { volumeId: VOLUME, device: '/dev/sdb' });
    scope.done();
    expect(a.volumeId).toBe(VOLUME);
    expect(a.deleteOnTermination).toBeUndefined();
  });

  it('accepts a null device in the response', async () => {
    const resp = novaSample<{ volumeAttachment: Record<string, unknown> }>(
      'os-volumes/attach-volume-to-server-resp.json',
    );
    resp.volumeAttachment.device = null;
    const scope = computeApi()
      .post(LIST, { volumeAttachment: { volumeId: VOLUME } })
      .reply(200, resp);
    const a = await attachVolume(computeClient(), SERVER, { volumeId: VOLUME });
    scope.done();
    expect(a.device).toBeUndefined();
  });

  it.each([
    ['a tag', '2.48', { tag: 'data' }, '2.49'],
    ['delete_on_termination', '2.78', { deleteOnTermination: true }, '2.79'],
  ])('refuses %s at %s', async (_what, mv, extra, required) => {
    const err = await rejectionOf(attachVolume(computeClient(mv), SERVER, { volumeId: VOLUME, ...extra }));
    expect(err).toBeInstanceOf(MicroversionError);
    expect((err as MicroversionError).required).toBe(required);
  });

  it('refuses a bad device path or a non-uuid volume before sending', async () => {
    await expect(
      attachVolume(computeClient(), SERVER, { volumeId: VOLUME, device: 'vdb' }),
    ).rejects.toBeInstanceOf(InputValidationError);
    await expect(attachVolume(computeClient(), SERVER, { volumeId: 'vol-1' })).rejects.toBeInstanceOf(
      InputValidationError,
    );
  });

  it('retries while the server runs a task (409 task_state), then succeeds', async () => {
    const scope = computeApi()
      .post(LIST)
      .reply(409, conflict(BUSY))
      .post(LIST)
      .reply(400, badRequest(RESERVED))
      .post(LIST)
      .reply(200, novaSample('os-volumes/attach-volume-to-server-resp.json'));
    const retries: number[] = [];
    const a = await attachVolume(
      computeClient(),
      SERVER,
      { volumeId: VOLUME },
      { transitionRetry: { ...fastTransitionRetry, onRetry: (_e, n) => retries.push(n) } },
    );
    scope.done();
    expect(a.volumeId).toBe(VOLUME);
    expect(retries).toEqual([1, 2]);
  });

  it('does not retry a locked server', async () => {
    const scope = computeApi()
      .post(LIST)
      .once()
      .reply(409, conflict(`Instance ${SERVER} is locked`));
    const err = await rejectionOf(
      attachVolume(computeClient(), SERVER, { volumeId: VOLUME }, { transitionRetry: fastTransitionRetry }),
    );
    scope.done();
    expect(err).toBeInstanceOf(ConflictError);
  });

  it('does not retry a volume in use elsewhere', async () => {
    const msg = `Invalid volume: Volume ${VOLUME} status must be available or downloading to reserve, but the current status is in-use.`;
    const scope = computeApi().post(LIST).once().reply(400, badRequest(msg));
    const err = await rejectionOf(
      attachVolume(computeClient(), SERVER, { volumeId: VOLUME }, { transitionRetry: fastTransitionRetry }),
    );
    scope.done();
    expect(err).toBeInstanceOf(BadRequestError);
  });

  it('gives up after the configured number of tries with the last conflict', async () => {
    const scope = computeApi().post(LIST).times(3).reply(409, conflict(BUSY));
    const err = await rejectionOf(
      attachVolume(
        computeClient(),
        SERVER,
        { volumeId: VOLUME },
        { transitionRetry: { ...fastTransitionRetry, tries: 3 } },
      ),
    );
    scope.done();
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).faultMessage).toBe(BUSY);
  });

  it('gives up when the next delay would pass the time budget', async () => {
    const scope = computeApi().post(LIST).once().reply(409, conflict(BUSY));
    const err = await rejectionOf(
      attachVolume(
        computeClient(),
        SERVER,
        { volumeId: VOLUME },
        { transitionRetry: { minDelayMs: 50, maxElapsedMs: 10 } },
      ),
    );
    scope.done();
    expect(err).toBeInstanceOf(ConflictError);
  });

  it('does not retry at all with transitionRetry: false', async () => {
    const scope = computeApi().post(LIST).once().reply(409, conflict(BUSY));
    await expect(
      attachVolume(computeClient(), SERVER, { volumeId: VOLUME }, { transitionRetry: false }),
    ).rejects.toBeInstanceOf(ConflictError);
    scope.done();
  });

  it('stops retrying with AbortedError when the signal fires during a delay', async () => {
    const controller = new AbortController();
    const scope = computeApi().post(LIST).once().reply(409, conflict(BUSY));
    const err = await rejectionOf(
      attachVolume(
        computeClient(),
        SERVER,
        { volumeId: VOLUME },
        {
          signal: controller.signal,
          transitionRetry: { minDelayMs: 5_000, onRetry: () => controller.abort() },
        },
      ),
    );
    scope.done();
    expect(err).toBeInstanceOf(AbortedError);
  });

  it('maps too many disks (403) to ForbiddenError without retrying', async () => {
    const scope = computeApi()
      .post(LIST)
      .once()
      .reply(403, {
        forbidden: {
          code: 403,
          message:
            'The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded.',
        },
      });
    await expect(attachVolume(computeClient(), SERVER, { volumeId: VOLUME })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    scope.done();
  });
});

describe('detachVolume', () => {
  it('sends DELETE and expects 202', async () => {
    const scope = computeApi().delete(ONE).reply(202);
    await detachVolume(computeClient(), SERVER, VOLUME);
    scope.done();
  });

  it('retries while the volume is not yet in-use (detach right after attach)', async () => {
    const scope = computeApi().delete(ONE).reply(400, badRequest(NOT_IN_USE)).delete(ONE).reply(202);
    await detachVolume(computeClient(), SERVER, VOLUME, { transitionRetry: fastTransitionRetry });
    scope.done();
  });

  it('refuses to detach the root volume (400, not retried)', async () => {
    const scope = computeApi()
      .delete(ONE)
      .once()
      .reply(400, badRequest('Cannot detach a root device volume'));
    await expect(
      detachVolume(computeClient(), SERVER, VOLUME, { transitionRetry: fastTransitionRetry }),
    ).rejects.toBeInstanceOf(BadRequestError);
    scope.done();
  });
});

describe('isTransitionConflict', () => {
  const ctx = { service: 'compute', method: 'POST', url: `http://compute.test${LIST}` };
  it.each<[string, Error, boolean]>([
    ['409 task_state', new ConflictError({ ...ctx, status: 409, faultMessage: BUSY }), true],
    [
      '409 vm_state building',
      new ConflictError({
        ...ctx,
        status: 409,
        faultMessage: "Cannot 'attach_volume' instance x while it is in vm_state building",
      }),
      true,
    ],
    [
      '409 vm_state error',
      new ConflictError({
        ...ctx,
        status: 409,
        faultMessage: "Cannot 'attach_volume' instance x while it is in vm_state error",
      }),
      false,
    ],
    ['409 locked', new ConflictError({ ...ctx, status: 409, faultMessage: 'Instance x is locked' }), false],
    ['409 without a message', new ConflictError({ ...ctx, status: 409 }), false],
    ['400 volume reserved', new BadRequestError({ ...ctx, status: 400, faultMessage: RESERVED }), true],
    [
      '400 volume detaching',
      new BadRequestError({ ...ctx, status: 400, faultMessage: 'but the current status is detaching.' }),
      true,
    ],
    [
      '400 volume not in-use yet',
      new BadRequestError({ ...ctx, status: 400, faultMessage: NOT_IN_USE }),
      true,
    ],
    [
      '400 volume in-use elsewhere',
      new BadRequestError({ ...ctx, status: 400, faultMessage: 'but the current status is in-use.' }),
      false,
    ],
    ['a plain Error with the same text', new Error(BUSY), false],
  ])('%s → %s', (_what, err, expected) => {
    expect(isTransitionConflict(err)).toBe(expected);
  });

  it('defaults to 6 tries within 30 s', () => {
    expect(defaultTransitionRetry).toEqual({
      tries: 6,
      minDelayMs: 1_000,
      maxDelayMs: 8_000,
      maxElapsedMs: 30_000,
    });
  });
});

describe('attachment waiters', () => {
  const attached = () => novaSample('os-volumes/volume-attachment-detail-resp.json');
  const notAttached = {
    itemNotFound: { code: 404, message: `Instance ${SERVER} is not attached to volume ${VOLUME}` },
  };

  it('waits until the volume appears', async () => {
    const scope = computeApi().get(ONE).reply(404, notAttached).get(ONE).reply(200, attached());
    const seen: (string | undefined)[] = [];
    const a = await waitForVolumeAttached(computeClient(), SERVER, VOLUME, {
      ...fastPoll,
      onProgress: (p) => seen.push(p.status),
    });
    scope.done();
    expect(a.volumeId).toBe(VOLUME);
    expect(seen).toEqual(['not attached', 'attached']);
  });

  it('times out when the volume never appears', async () => {
    const scope = computeApi().persist().get(ONE).reply(404, notAttached);
    const err = await rejectionOf(
      waitForVolumeAttached(computeClient(), SERVER, VOLUME, { ...fastPoll, timeoutMs: 30 }),
    );
    scope.done();
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('not attached');
  });

  it('propagates errors other than 404', async () => {
    const scope = computeApi()
      .get(ONE)
      .reply(403, { forbidden: { code: 403, message: 'policy' } });
    await expect(waitForVolumeAttached(computeClient(), SERVER, VOLUME, fastPoll)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    scope.done();
  });

  it('waits until the volume is gone', async () => {
    const scope = computeApi().get(ONE).reply(200, attached()).get(ONE).reply(404, notAttached);
    await expect(waitForVolumeDetached(computeClient(), SERVER, VOLUME, fastPoll)).resolves.toBeUndefined();
    scope.done();
  });

  it('times out while the volume stays attached', async () => {
    const scope = computeApi().persist().get(ONE).reply(200, attached());
    const err = await rejectionOf(
      waitForVolumeDetached(computeClient(), SERVER, VOLUME, { ...fastPoll, timeoutMs: 30 }),
    );
    scope.done();
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastStatus).toBe('attached');
  });

  it('stops with AbortedError when the signal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      waitForVolumeAttached(computeClient(), SERVER, VOLUME, { ...fastPoll, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    await expect(
      waitForVolumeDetached(computeClient(), SERVER, VOLUME, { ...fastPoll, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
  });
});
