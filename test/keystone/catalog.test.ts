import { describe, expect, it } from '@jest/globals';
import { EndpointNotFoundError } from '../../src/core/errors.js';
import { selectEndpoint } from '../../src/keystone/catalog.js';
import { tokenResponseSchema } from '../../src/keystone/schemas.js';
import { sample } from '../helpers/core.js';

const official = tokenResponseSchema.parse(sample('keystone/auth/responses/project-scoped-password.json')).token.catalog ?? [];

const entry = (type: string, url: string, iface: 'public' | 'internal' | 'admin' = 'public', region = 'RegionOne') => ({
  type,
  endpoints: [{ interface: iface, region_id: region, region, url }],
});

describe('selectEndpoint', () => {
  it('reads the official sample catalog', () => {
    expect(selectEndpoint(official, { type: 'identity' })).toBe('http://example.com/identity');
    expect(selectEndpoint(official, { type: 'identity', interface: 'admin' })).toBe('http://example.com/identity');
  });

  it.each(['block-storage', 'volumev3', 'volume'])('finds Cinder registered as %s', (type) => {
    expect(selectEndpoint([entry(type, 'http://c/v3/p/')], { type: 'block-storage' })).toBe('http://c/v3/p');
  });

  it('prefers block-storage over the older aliases when a cloud lists several', () => {
    const catalog = [entry('volume', 'http://old/v1/p'), entry('volumev3', 'http://v3/v3/p'), entry('block-storage', 'http://bs/v3/p')];
    expect(selectEndpoint(catalog, { type: 'block-storage' })).toBe('http://bs/v3/p');
  });

  it('selects by interface and region', () => {
    const catalog = [
      { type: 'compute', endpoints: [
        { interface: 'public' as const, region_id: 'RegionOne', url: 'http://pub1' },
        { interface: 'internal' as const, region_id: 'RegionOne', url: 'http://int1' },
        { interface: 'public' as const, region_id: 'RegionTwo', url: 'http://pub2' },
      ] },
    ];
    expect(selectEndpoint(catalog, { type: 'compute', interface: 'internal' })).toBe('http://int1');
    expect(selectEndpoint(catalog, { type: 'compute', region: 'RegionTwo' })).toBe('http://pub2');
  });

  it('names what it looked for and what the catalog has when nothing matches', () => {
    try {
      selectEndpoint([entry('compute', 'http://n')], { type: 'image', region: 'RegionOne' });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(EndpointNotFoundError);
      expect((e as Error).message).toContain('no public endpoint for image');
      expect((e as Error).message).toContain('compute(public@RegionOne)');
    }
  });
});
