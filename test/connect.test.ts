import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { connect, versionUrl } from '../src/connect.js';
import { ConfigError, EndpointNotFoundError, MicroversionError } from '../src/core/errors.js';
import { memoryLogger, sample } from './helpers/core.js';
import { tokenBody } from './helpers/keystone.js';

const projectId = 'a6944d763bf64ee6a275f1263fae0352';
const auth = {
  authUrl: 'http://keystone.test',
  type: 'password' as const,
  username: 'demo',
  password: 'pw-secret',
  userDomainName: 'Default',
  projectName: 'demo',
};

function stubCloud(opts: { computeMax?: string } = {}) {
  const nova = sample<{ version: { version: string } }>('nova/versions/v21-version-get-resp.json');
  if (opts.computeMax) nova.version.version = opts.computeMax;
  return [
    nock('http://keystone.test').post('/v3/auth/tokens').reply(201, tokenBody({ projectId }), { 'x-subject-token': 'tok' }),
    nock('http://nova.test').get('/v2.1/').reply(200, nova),
    nock('http://cinder.test').get('/v3/').reply(200, sample('cinder/versions/version-show-response.json')),
  ];
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('connect', () => {
  it('authenticates, picks endpoints and negotiates microversions', async () => {
    const scopes = stubCloud();
    const cloud = await connect({ auth });
    expect(cloud.projectId).toBe(projectId);
    expect(cloud.endpoints).toEqual({
      compute: 'http://nova.test/v2.1',
      'block-storage': `http://cinder.test/v3/${projectId}`,
      image: 'http://glance.test',
    });
    expect(cloud.microversions).toEqual({ compute: [2, 93], volume: [3, 70] });
    expect(cloud.services.volume.microversion).toEqual([3, 70]);
    scopes.forEach((s) => s.done());

    nock('http://cinder.test', { reqheaders: { 'openstack-api-version': 'volume 3.70', 'x-auth-token': 'tok' } })
      .get(`/v3/${projectId}/volumes/v1`)
      .reply(200, { volume: { id: 'v1' } });
    const res = await cloud.services.volume.request({ method: 'GET', path: '/volumes/v1', expect: [200] });
    expect(res.status).toBe(200);
  });

  it('negotiates down to an older server', async () => {
    stubCloud({ computeMax: '2.60' });
    const cloud = await connect({ auth });
    expect(cloud.microversions.compute).toEqual([2, 60]);
  });

  it('honours endpoint overrides', async () => {
    nock('http://keystone.test').post('/v3/auth/tokens').reply(201, tokenBody({ projectId }), { 'x-subject-token': 'tok' });
    nock('http://nova.test').get('/v2.1/').reply(200, sample('nova/versions/v21-version-get-resp.json'));
    nock('http://other-cinder.test').get('/v3/').reply(200, sample('cinder/versions/version-show-response.json'));
    const cloud = await connect({ auth, endpointOverrides: { 'block-storage': `http://other-cinder.test/v3/${projectId}` } });
    expect(cloud.endpoints['block-storage']).toBe(`http://other-cinder.test/v3/${projectId}`);
  });

  it('fails clearly on a region the catalog lacks', async () => {
    nock('http://keystone.test').post('/v3/auth/tokens').reply(201, tokenBody({ projectId }), { 'x-subject-token': 'tok' });
    await expect(connect({ auth, region: 'Mars' })).rejects.toBeInstanceOf(EndpointNotFoundError);
  });

  it('rejects bad explicit credentials before any request, naming the field', async () => {
    const { username: _u, ...noUser } = auth;
    await expect(connect({ auth: noUser })).rejects.toThrow(ConfigError);
    await expect(connect({ auth: noUser })).rejects.toThrow(/auth\.username: username or userId is required/);
  });

  it('fails when the server only offers microversions newer than ours', async () => {
    const nova = sample<{ version: { version: string; min_version: string } }>('nova/versions/v21-version-get-resp.json');
    nova.version.min_version = '2.95';
    nova.version.version = '2.99';
    nock('http://keystone.test').post('/v3/auth/tokens').reply(201, tokenBody({ projectId }), { 'x-subject-token': 'tok' });
    nock('http://nova.test').get('/v2.1/').reply(200, nova);
    nock('http://cinder.test').get('/v3/').reply(200, sample('cinder/versions/version-show-response.json'));
    await expect(connect({ auth })).rejects.toBeInstanceOf(MicroversionError);
  });

  it('warns when TLS verification is off and never logs the password or token', async () => {
    stubCloud();
    const logger = memoryLogger();
    await connect({ auth, insecure: true, logger });
    expect(logger.lines.some((l) => l.level === 'warn' && /TLS certificate verification is OFF/.test(l.msg ?? ''))).toBe(true);
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain('pw-secret');
    expect(text).not.toContain('"tok"');
  });
});

describe('versionUrl', () => {
  it.each([
    [`http://c:8776/v3/${projectId}`, `http://c:8776/v3/`],
    ['http://c:8776/v3/%(project_id)s', 'http://c:8776/v3/'],
    ['http://n:8774/v2.1', 'http://n:8774/v2.1/'],
    ['http://h/compute/v2.1/', 'http://h/compute/v2.1/'],
  ])('%s → %s', (endpoint, expected) => expect(versionUrl(endpoint, projectId)).toBe(expected));
});
