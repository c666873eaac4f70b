import { sample } from './core.js';

/** The official project-scoped token sample, with its catalog pointed at our test hosts. */
export function tokenBody(opts: { expiresAt?: Date; projectId?: string } = {}): Record<string, unknown> {
  const body = sample<{ token: Record<string, unknown> }>('keystone/auth/responses/project-scoped-password.json');
  const projectId = opts.projectId ?? 'a6944d763bf64ee6a275f1263fae0352';
  const ep = (url: string) =>
    (['public', 'internal', 'admin'] as const).map((iface) => ({ id: `${iface}-id`, interface: iface, region: 'RegionOne', region_id: 'RegionOne', url }));
  body.token.expires_at = (opts.expiresAt ?? new Date(Date.now() + 3_600_000)).toISOString();
  body.token.catalog = [
    { type: 'identity', id: 'i', name: 'keystone', endpoints: ep('http://keystone.test/v3') },
    { type: 'compute', id: 'c', name: 'nova', endpoints: ep('http://nova.test/v2.1') },
    { type: 'volumev3', id: 'v', name: 'cinderv3', endpoints: ep(`http://cinder.test/v3/${projectId}`) },
    { type: 'image', id: 'g', name: 'glance', endpoints: ep('http://glance.test') },
  ];
  (body.token.project as { id: string }).id = projectId;
  return body;
}
