import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  InputValidationError,
  MicroversionError,
  NotFoundError,
} from '../../src/core/errors.js';
import {
  addServerTag,
  deleteServerMetadataItem,
  getServerMetadata,
  hasServerTag,
  listServerTags,
  removeServerTag,
  replaceServerMetadata,
  replaceServerTags,
  setServerMetadataItem,
  updateServerMetadata,
} from '../../src/nova/index.js';
import { computeApi, computeClient, lockNetwork, rejectionOf } from '../helpers/nova.js';

lockNetwork({ beforeAll, afterEach });

const ID = '0e44cc9c-e052-415d-afbf-469b0d384170';
const notFound = (message: string) => ({ itemNotFound: { code: 404, message } });

describe('server metadata', () => {
  it('reads all metadata', async () => {
    const scope = computeApi()
      .get(`/servers/${ID}/metadata`)
      .reply(200, { metadata: { a: '1', b: '2' } });
    await expect(getServerMetadata(computeClient(), ID)).resolves.toEqual({ a: '1', b: '2' });
    scope.done();
  });

  it('replaces all metadata with PUT', async () => {
    const scope = computeApi()
      .put(`/servers/${ID}/metadata`, { metadata: { a: '1' } })
      .reply(200, { metadata: { a: '1' } });
    await expect(replaceServerMetadata(computeClient(), ID, { a: '1' })).resolves.toEqual({ a: '1' });
    scope.done();
  });

  it('merges metadata with POST, retried like a PUT on 503', async () => {
    const scope = computeApi()
      .post(`/servers/${ID}/metadata`, { metadata: { gen: '3' } })
      .reply(503, { computeFault: { code: 503, message: 'try later' } })
      .post(`/servers/${ID}/metadata`, { metadata: { gen: '3' } })
      .reply(200, { metadata: { a: '1', gen: '3' } });
    await expect(updateServerMetadata(computeClient(), ID, { gen: '3' })).resolves.toEqual({
      a: '1',
      gen: '3',
    });
    scope.done();
  });

  it('sets one item with PUT {"meta": {key: value}}, encoding the key', async () => {
    const scope = computeApi()
      .put(`/servers/${ID}/metadata/dataswap%3Astage`, { meta: { 'dataswap:stage': '4' } })
      .reply(200, { meta: { 'dataswap:stage': '4' } });
    await expect(setServerMetadataItem(computeClient(), ID, 'dataswap:stage', '4')).resolves.toBe('4');
    scope.done();
  });

  it('deletes one item (204)', async () => {
    const scope = computeApi().delete(`/servers/${ID}/metadata/k`).reply(204);
    await deleteServerMetadataItem(computeClient(), ID, 'k');
    scope.done();
  });

  it('refuses a key Nova would reject and an over-long value', async () => {
    const err = await rejectionOf(setServerMetadataItem(computeClient(), ID, 'a/b', 'v'));
    expect(err).toBeInstanceOf(InputValidationError);
    await expect(updateServerMetadata(computeClient(), ID, { k: 'v'.repeat(256) })).rejects.toBeInstanceOf(
      InputValidationError,
    );
  });

  it('maps a 409 (server in a state that forbids it) to ConflictError', async () => {
    const scope = computeApi()
      .put(`/servers/${ID}/metadata`)
      .reply(409, {
        conflictingRequest: {
          code: 409,
          message: "Cannot 'update metadata' instance while it is in vm_state building",
        },
      });
    await expect(replaceServerMetadata(computeClient(), ID, {})).rejects.toBeInstanceOf(ConflictError);
    scope.done();
  });
});

describe('server tags (2.26+)', () => {
  it('lists tags', async () => {
    const scope = computeApi('2.26')
      .get(`/servers/${ID}/tags`)
      .reply(200, { tags: ['a', 'b'] });
    await expect(listServerTags(computeClient('2.26'), ID)).resolves.toEqual(['a', 'b']);
    scope.done();
  });

  it('refuses every tag call below 2.26', async () => {
    const c = computeClient('2.25');
    for (const call of [
      listServerTags(c, ID),
      replaceServerTags(c, ID, ['a']),
      addServerTag(c, ID, 'a'),
      hasServerTag(c, ID, 'a'),
      removeServerTag(c, ID, 'a'),
    ]) {
      await expect(call).rejects.toBeInstanceOf(MicroversionError);
    }
  });

  it('replaces all tags', async () => {
    const scope = computeApi()
      .put(`/servers/${ID}/tags`, { tags: ['x', 'y'] })
      .reply(200, { tags: ['x', 'y'] });
    await expect(replaceServerTags(computeClient(), ID, ['x', 'y'])).resolves.toEqual(['x', 'y']);
    scope.done();
  });

  it('adds a tag: true on 201, false on 204 (already there)', async () => {
    const scope = computeApi()
      .put(`/servers/${ID}/tags/gen-3`)
      .reply(201)
      .put(`/servers/${ID}/tags/gen-3`)
      .reply(204);
    await expect(addServerTag(computeClient(), ID, 'gen-3')).resolves.toBe(true);
    await expect(addServerTag(computeClient(), ID, 'gen-3')).resolves.toBe(false);
    scope.done();
  });

  it('checks a tag: 204 is true, 404 with the server present is false', async () => {
    const scope = computeApi()
      .get(`/servers/${ID}/tags/a`)
      .reply(204)
      .get(`/servers/${ID}/tags/b`)
      .reply(404, notFound(`Server ${ID} has no tag 'b'`))
      .get(`/servers/${ID}/tags`)
      .reply(200, { tags: ['a'] });
    await expect(hasServerTag(computeClient(), ID, 'a')).resolves.toBe(true);
    await expect(hasServerTag(computeClient(), ID, 'b')).resolves.toBe(false);
    scope.done();
  });

  it('reports a missing server as NotFoundError rather than "no tag"', async () => {
    const scope = computeApi()
      .get(`/servers/${ID}/tags/a`)
      .reply(404, notFound(`Instance ${ID} could not be found.`))
      .get(`/servers/${ID}/tags`)
      .reply(404, notFound(`Instance ${ID} could not be found.`));
    await expect(hasServerTag(computeClient(), ID, 'a')).rejects.toBeInstanceOf(NotFoundError);
    scope.done();
  });

  it('removes a tag idempotently: 204, or 404 for a tag that is not there', async () => {
    const scope = computeApi()
      .delete(`/servers/${ID}/tags/a`)
      .reply(204)
      .delete(`/servers/${ID}/tags/b`)
      .reply(404, notFound(`Server ${ID} has no tag 'b'`))
      .get(`/servers/${ID}/tags`)
      .reply(200, { tags: [] });
    await removeServerTag(computeClient(), ID, 'a');
    await removeServerTag(computeClient(), ID, 'b');
    scope.done();
  });

  it('refuses a tag with "/" before sending', async () => {
    await expect(addServerTag(computeClient(), ID, 'a/b')).rejects.toBeInstanceOf(InputValidationError);
    await expect(
      replaceServerTags(
        computeClient(),
        ID,
        Array.from({ length: 51 }, (_, i) => `t${i}`),
      ),
    ).rejects.toBeInstanceOf(InputValidationError);
  });
});
