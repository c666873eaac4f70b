/**
 * The emulator must not drift from the real OpenStack unnoticed: the recorded scenarios run against
 * it through the library, and every response shape (keys and JSON types, recursively) is compared
 * with what the real loopback stack answered to the same call in the recordings.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Definition } from 'nock';
import { connect } from '../../src/connect.js';
import { createGotTransport } from '../../src/core/got-transport.js';
import type { Transport } from '../../src/core/transport.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { scenarios } from '../fixtures/scenarios.js';

type Shape = string | { [key: string]: Shape } | [Shape];

const FREE_FORM = new Set(['metadata', 'volume_image_metadata']);

/** The JSON type tree of a value; arrays by the union of their elements' keys. */
function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const objects = v.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) as object[];
    if (objects.length) return [shapeOf(Object.assign({}, ...objects))];
    return v.length ? [shapeOf(v[0])] : ['empty'];
  }
  if (typeof v === 'object') {
    // Free-form maps (metadata, image properties copied onto a volume) hold data, not shape.
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, FREE_FORM.has(k) && x && typeof x === 'object' ? 'map' : shapeOf(x)]),
    );
  }
  return typeof v;
}

/** Paths differ only in the prefix a deployment mounts each service under; ids become `{id}`. */
function operationKey(method: string, url: string, status: number): string {
  const path = new URL(url, 'http://x').pathname.replace(/^.*?\/(v2\.1|v3|v2)(?=\/|$)/, '/$1');
  const generic = path
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}')
    .replace(/\/[0-9a-f]{32}(?=\/|$)/g, '/{project}')
    .replace(/\/flavors\/[^/]+$/, '/flavors/{id}');
  return `${method.toUpperCase()} ${generic} ${status}`;
}

/** Differences where the emulator lacks a key the real service sends, or sends another type. */
function differences(real: Shape, emulated: Shape, path = ''): string[] {
  if (typeof real === 'string' || typeof emulated === 'string') {
    if (real === emulated || real === 'null' || emulated === 'null' || real === 'empty' || emulated === 'empty') return [];
    if (Array.isArray(real) && emulated === 'empty') return [];
    return [`${path || '(body)'}: real ${JSON.stringify(real)}, emulator ${JSON.stringify(emulated)}`];
  }
  if (Array.isArray(real) || Array.isArray(emulated)) {
    if (Array.isArray(real) && Array.isArray(emulated)) return differences(real[0], emulated[0], `${path}[]`);
    return [`${path}: real ${Array.isArray(real) ? 'array' : 'object'}, emulator ${Array.isArray(emulated) ? 'array' : 'object'}`];
  }
  return Object.keys(real).flatMap((k) =>
    k in emulated ? differences(real[k]!, emulated[k]!, path ? `${path}.${k}` : k) : [`${path ? `${path}.` : ''}${k}: missing in the emulator`],
  );
}

let emu: Emulator;
const seen = new Map<string, Shape>();

beforeAll(async () => {
  emu = await startEmulator({ delays: 0 });
  const inner = createGotTransport();
  const recording: Transport = {
    async request(req) {
      const res = await inner.request(req);
      const type = res.headers['content-type'] ?? '';
      if (type.includes('json') && res.body.length) {
        seen.set(operationKey(req.method, req.url, res.status), shapeOf(JSON.parse(res.body.toString('utf8'))));
      }
      return res;
    },
  };
  const cloud = await connect({ auth: emu.cloudConfig, transport: recording });
  for (const run of Object.values(scenarios)) {
    await run({ cloud, poll: { intervalMs: 2, maxIntervalMs: 10 }, flavor: 'ds.small' });
  }
});

afterAll(() => emu.close());

describe('emulator fidelity against the recordings of the real stack', () => {
  const recorded = new Map<string, { shape: Shape; fixture: string }>();
  for (const name of Object.keys(scenarios)) {
    const defs = JSON.parse(readFileSync(`test/fixtures/${name}.json`, 'utf8')) as Definition[];
    for (const d of defs) {
      if (d.response === undefined || typeof d.response !== 'object') continue;
      recorded.set(operationKey(d.method ?? 'GET', `${String(d.scope)}${String(d.path)}`, d.status ?? 200), {
        shape: shapeOf(d.response),
        fixture: name,
      });
    }
  }

  it('runs every recorded scenario on the emulator and covers most recorded operations', () => {
    const covered = [...recorded.keys()].filter((k) => seen.has(k));
    const missing = [...recorded.keys()].filter((k) => !seen.has(k));
    console.log(`fidelity: ${recorded.size} recorded operations, ${covered.length} compared; not reached on the emulator: ${missing.join(', ') || 'none'}`);
    expect(covered.length).toBeGreaterThanOrEqual(Math.floor(recorded.size * 0.8));
  });

  it('answers every compared operation with the real response shape', () => {
    const problems: string[] = [];
    for (const [key, { shape, fixture }] of recorded) {
      const emulated = seen.get(key);
      if (!emulated) continue;
      for (const d of differences(shape, emulated)) problems.push(`${key} (${fixture}): ${d}`);
    }
    expect(problems).toEqual([]);
  });
});
