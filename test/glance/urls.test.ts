import { describe, expect, it } from '@jest/globals';
import {
  imageFilePath,
  imagePath,
  imageTagPath,
  imagesPath,
  imagesQueryPath,
  resolveGlanceLink,
} from '../../src/glance/images/urls.js';
import { glanceClient } from '../helpers/glance.js';

const bare = glanceClient();
const versioned = glanceClient({ endpoint: 'http://glance.test/v2/' });
const proxied = glanceClient({ endpoint: 'http://cloud.test/image' });

describe('glance image urls', () => {
  it('adds /v2 to a bare endpoint and not to one that ends in /v2', () => {
    expect(imagesPath(bare)).toBe('/v2/images');
    expect(imagesPath(versioned)).toBe('/images');
    expect(imagesPath(proxied)).toBe('/v2/images');
    expect(versioned.url(imagePath(versioned, 'abc'))).toBe('http://glance.test/v2/images/abc');
    expect(proxied.url(imageFilePath(proxied, 'abc'))).toBe('http://cloud.test/image/v2/images/abc/file');
  });

  it('encodes every id and tag', () => {
    expect(imagePath(bare, 'a/b?c')).toBe('/v2/images/a%2Fb%3Fc');
    expect(imageTagPath(bare, 'id 1', 'x86 64/bit')).toBe('/v2/images/id%201/tags/x86%2064%2Fbit');
  });

  it('builds a query with repeated keys, and none when empty', () => {
    const q = new URLSearchParams([
      ['tag', 'a'],
      ['tag', 'b c'],
    ]);
    expect(imagesQueryPath(bare, q)).toBe('/v2/images?tag=a&tag=b+c');
    expect(imagesQueryPath(bare, new URLSearchParams())).toBe('/v2/images');
  });

  it('resolves Glance links (always /v2/…) against any endpoint', () => {
    expect(resolveGlanceLink(bare, '/v2/images?marker=m')).toBe('/v2/images?marker=m');
    expect(resolveGlanceLink(versioned, '/v2/images?marker=m')).toBe('/images?marker=m');
    expect(versioned.url(resolveGlanceLink(versioned, '/v2/images?marker=m'))).toBe(
      'http://glance.test/v2/images?marker=m',
    );
    expect(proxied.url(resolveGlanceLink(proxied, '/v2/images/x'))).toBe(
      'http://cloud.test/image/v2/images/x',
    );
    expect(resolveGlanceLink(bare, 'https://other.test/v2/images')).toBe('https://other.test/v2/images');
  });
});
