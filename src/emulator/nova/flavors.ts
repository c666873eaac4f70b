import { notFound } from '../errors.js';
import { json, type AuthedHandler } from '../http/context.js';
import { atLeast, type Microversion } from '../microversion.js';
import type { EmulatorFlavor } from '../options.js';
import type { World } from '../world.js';

/** The flavor a `flavorRef` (id or href) names, if any. */
export function findFlavor(world: World, ref: string): EmulatorFlavor | undefined {
  const id = ref.includes('/') ? (ref.split('/').filter(Boolean).pop() ?? '') : ref;
  return world.options.flavors.find((f) => f.id === id);
}

function flavorLinks(world: World, id: string): unknown[] {
  return [
    { href: `${world.baseUrl}/compute/v2.1/flavors/${id}`, rel: 'self' },
    { href: `${world.baseUrl}/compute/flavors/${id}`, rel: 'bookmark' },
  ];
}

/** The detailed flavor view (nova/api/openstack/compute/views/flavors.py). */
export function flavorView(world: World, f: EmulatorFlavor, mv: Microversion | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id,
    name: f.name,
    ram: f.ram,
    disk: f.disk,
    // 2.75 turned swap's "" into 0.
    swap: atLeast(mv, '2.75') ? 0 : '',
    vcpus: f.vcpus,
    'OS-FLV-EXT-DATA:ephemeral': 0,
    'OS-FLV-DISABLED:disabled': false,
    'os-flavor-access:is_public': true,
    rxtx_factor: 1.0,
    links: flavorLinks(world, f.id),
  };
  if (atLeast(mv, '2.55')) out.description = null;
  if (atLeast(mv, '2.61')) out.extra_specs = {};
  return out;
}

/** `GET /flavors` (summary) and `GET /flavors/detail`. */
export function listFlavorsHandler(detail: boolean): AuthedHandler {
  return (ctx, world) =>
    json(200, {
      flavors: world.options.flavors.map((f) => {
        if (detail) return flavorView(world, f, ctx.microversion);
        const summary: Record<string, unknown> = { id: f.id, links: flavorLinks(world, f.id), name: f.name };
        if (atLeast(ctx.microversion, '2.55')) summary.description = null;
        return summary;
      }),
    });
}

/** `GET /flavors/{id}`. */
export const getFlavorHandler: AuthedHandler = (ctx, world) => {
  const id = ctx.params.id ?? '';
  const f = world.options.flavors.find((x) => x.id === id);
  if (!f) throw notFound(`Flavor ${id} could not be found.`);
  return json(200, { flavor: flavorView(world, f, ctx.microversion) });
};
