import { describe, expect, it } from '@jest/globals';
import { MicroversionError } from '../../src/core/errors.js';
import {
  atLeast,
  negotiateMicroversion,
  parseMicroversion,
  rangeFromVersionDocument,
  requireMicroversion,
  versionDocumentSchema,
} from '../../src/core/microversion.js';
import { sample } from '../helpers/core.js';

const client = { min: parseMicroversion('2.1'), max: parseMicroversion('2.93') };

describe('microversions', () => {
  it('reads the range from Nova and Cinder version documents', () => {
    const nova = versionDocumentSchema.parse(sample('nova/versions/v21-version-get-resp.json'));
    expect(rangeFromVersionDocument(nova, 2)).toEqual({ min: [2, 1], max: [2, 93] });
    const cinder = versionDocumentSchema.parse(sample('cinder/versions/version-show-response.json'));
    expect(rangeFromVersionDocument(cinder, 3)).toEqual({ min: [3, 0], max: [3, 70] });
    const cinderRoot = versionDocumentSchema.parse(sample('cinder/versions/versions-response.json'));
    expect(rangeFromVersionDocument(cinderRoot, 3)?.max).toEqual([3, 70]);
  });

  it('asks for the highest version both sides support', () => {
    expect(negotiateMicroversion('compute', client, { min: [2, 1], max: [2, 100] })).toEqual([2, 93]);
    expect(negotiateMicroversion('compute', client, { min: [2, 1], max: [2, 60] })).toEqual([2, 60]);
    expect(negotiateMicroversion('compute', client, undefined)).toEqual([2, 1]);
  });

  it('fails when the ranges do not overlap', () => {
    expect(() => negotiateMicroversion('compute', client, { min: [2, 95], max: [2, 99] })).toThrow(MicroversionError);
  });

  it('compares numerically, not as text (2.10 > 2.9)', () => {
    expect(atLeast([2, 10], '2.9')).toBe(true);
    expect(atLeast([2, 9], '2.10')).toBe(false);
  });

  it('names both versions when a call needs a newer one', () => {
    expect(() => requireMicroversion('compute', [2, 60], '2.67', 'block_device_mapping_v2 volume_type')).toThrow(
      'block_device_mapping_v2 volume_type needs compute microversion 2.67 or newer; this session negotiated 2.60',
    );
    expect(() => requireMicroversion('compute', [2, 67], '2.67', 'x')).not.toThrow();
    expect(() => parseMicroversion('latest')).toThrow(TypeError);
  });
});
