import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { InputValidationError, NotFoundError } from '../../src/core/errors.js';
import { collect } from '../../src/core/paginate.js';
import { findFlavorByName, getFlavor, listFlavors, MatchError } from '../../src/nova/index.js';
import { computeApi, computeClient, lockNetwork, rejectionOf } from '../helpers/nova.js';

lockNetwork({ beforeAll, afterEach });

/**
 * The Zed sample set has no flavor files; these bodies follow Nova's flavor view builder
 * (nova/api/openstack/compute/views/flavors.py): `swap` is "" for none before 2.75 and 0 from 2.75,
 * `description` appears at 2.55 and `extra_specs` at 2.61.
 */
const flavor = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  ram: 512,
  disk: 1,
  swap: 0,
  'OS-FLV-EXT-DATA:ephemeral': 0,
  'OS-FLV-DISABLED:disabled': false,
  vcpus: 1,
  'os-flavor-access:is_public': true,
  rxtx_factor: 1.0,
  description: null,
  extra_specs: {},
  links: [{ href: `http://compute.test/flavors/${id}`, rel: 'self' }],
  ...extra,
});
const next = [{ href: 'http://compute.test/flavors/detail?limit=2&marker=2', rel: 'next' }];

describe('getFlavor', () => {
  it('reads a flavor, including the pre-2.75 empty-string swap', async () => {
    const scope = computeApi('2.60')
      .get('/flavors/1')
      .reply(200, { flavor: flavor('1', 'm1.tiny', { swap: '', extra_specs: undefined }) });
    const f = await getFlavor(computeClient('2.60'), '1');
    scope.done();
    expect(f).toMatchObject({ id: '1', name: 'm1.tiny', swap: '', vcpus: 1 });
  });

  it('throws NotFoundError for an unknown flavor', async () => {
    const scope = computeApi()
      .get('/flavors/nope')
      .reply(404, { itemNotFound: { code: 404, message: 'Flavor nope could not be found.' } });
    await expect(getFlavor(computeClient(), 'nope')).rejects.toBeInstanceOf(NotFoundError);
    scope.done();
  });
});

describe('listFlavors', () => {
  it('follows flavors_links next with the last id as marker, passing filters', async () => {
    const scope = computeApi()
      .get('/flavors/detail')
      .query({ minRam: '256', limit: '2' })
      .reply(200, { flavors: [flavor('1', 'a'), flavor('2', 'b')], flavors_links: next })
      .get('/flavors/detail')
      .query({ minRam: '256', limit: '2', marker: '2' })
      .reply(200, { flavors: [flavor('3', 'c')] });
    const all = await collect(listFlavors(computeClient(), { minRam: 256, pageSize: 2 }));
    scope.done();
    expect(all.map((f) => f.id)).toEqual(['1', '2', '3']);
  });

  it('refuses a negative filter when called', () => {
    expect(() => listFlavors(computeClient(), { minDisk: -1 })).toThrow(InputValidationError);
  });
});

describe('findFlavorByName', () => {
  it('finds the exact name across pages', async () => {
    const scope = computeApi()
      .get('/flavors/detail')
      .reply(200, { flavors: [flavor('1', 'm1.small-x'), flavor('2', 'M1.SMALL')], flavors_links: next })
      .get('/flavors/detail')
      .query({ marker: '2' })
      .reply(200, { flavors: [flavor('3', 'm1.small')] });
    const f = await findFlavorByName(computeClient(), 'm1.small');
    scope.done();
    expect(f.id).toBe('3');
  });

  it('throws NO_MATCH when no flavor has the name', async () => {
    const scope = computeApi()
      .get('/flavors/detail')
      .reply(200, { flavors: [flavor('1', 'm1.tiny')] });
    const err = await rejectionOf(findFlavorByName(computeClient(), 'm1.huge'));
    scope.done();
    expect(err).toBeInstanceOf(MatchError);
    expect((err as MatchError).code).toBe('NO_MATCH');
    expect((err as MatchError).message).toBe('no flavor named "m1.huge"');
  });

  it('throws AMBIGUOUS_MATCH naming both when two flavors share it', async () => {
    const scope = computeApi()
      .get('/flavors/detail')
      .reply(200, { flavors: [flavor('1', 'dup'), flavor('7', 'dup')] });
    const err = await rejectionOf(findFlavorByName(computeClient(), 'dup'));
    scope.done();
    expect((err as MatchError).code).toBe('AMBIGUOUS_MATCH');
    expect((err as MatchError).matches).toEqual(['1', '7']);
  });
});
