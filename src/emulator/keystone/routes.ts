import { ApiError, unauthorized } from '../errors.js';
import { empty, json, type RequestContext, type Route } from '../http/context.js';
import type { ServiceDefinition } from '../http/service.js';
import type { World } from '../world.js';
import { issueToken, tokenBody } from './tokens.js';

const PREFIX = '/identity';

function versionEntry(world: World): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${world.baseUrl}${PREFIX}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Both the caller's token and the token asked about must be valid (Keystone's token API). */
function subjectOf(ctx: RequestContext, world: World): string {
  const caller = header(ctx, 'x-auth-token');
  const callerToken = caller === undefined ? undefined : world.store.tokens.get(caller);
  if (!callerToken || callerToken.expiresAt <= world.now()) throw unauthorized();
  const subject = header(ctx, 'x-subject-token') ?? '';
  const token = world.store.tokens.get(subject);
  if (!token || token.expiresAt <= world.now()) throw new ApiError(404, `Could not find token: ${subject}.`);
  return subject;
}

const routes: Route[] = [
  {
    method: 'GET',
    pattern: PREFIX,
    operation: 'keystone.versions',
    public: true,
    handler: (_ctx, world) => json(300, { versions: { values: [versionEntry(world)] } }),
  },
  {
    method: 'GET',
    pattern: `${PREFIX}/v3`,
    operation: 'keystone.version',
    public: true,
    handler: (_ctx, world) => json(200, { version: versionEntry(world) }),
  },
  {
    method: 'POST',
    pattern: `${PREFIX}/v3/auth/tokens`,
    operation: 'keystone.token.create',
    public: true,
    handler: (ctx, world) => {
      const token = issueToken(world, ctx.body);
      return json(201, tokenBody(world, token), { 'X-Subject-Token': token.value, Vary: 'X-Auth-Token' });
    },
  },
  {
    method: 'GET',
    pattern: `${PREFIX}/v3/auth/tokens`,
    operation: 'keystone.token.validate',
    public: true,
    handler: (ctx, world) => {
      const subject = subjectOf(ctx, world);
      const token = world.store.tokens.get(subject);
      if (!token) throw new ApiError(404, `Could not find token: ${subject}.`);
      return json(200, tokenBody(world, token), { 'X-Subject-Token': subject });
    },
  },
  {
    method: 'DELETE',
    pattern: `${PREFIX}/v3/auth/tokens`,
    operation: 'keystone.token.revoke',
    public: true,
    handler: (ctx, world) => {
      world.store.tokens.delete(subjectOf(ctx, world));
      return empty(204);
    },
  },
];

/** Keystone v3: version documents and the token API. */
export function keystoneService(): ServiceDefinition {
  return { name: 'keystone', prefix: PREFIX, routes, malformedBodyMessage: 'Expecting to find valid JSON in request body.' };
}
