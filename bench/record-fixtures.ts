/**
 * Records the responses the client-overhead benchmark serves, once, from the loopback stack:
 * the token (with its catalog), the version documents of Keystone, Nova and Cinder, and a
 * `GET /volumes/{id}` and `GET /servers/{id}` of a server booted from a volume with a data volume
 * attached, read as the member user at the microversions dataswap negotiates. Host and ports become
 * placeholders (`{{compute}}`…); no token, password or header but the content type and the
 * microversion is kept. Everything it creates is deleted again.
 *
 *   npx tsx bench/record-fixtures.ts            # needs test/openstack/stack.sh up
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from '../src/connect.js';
import { createGotTransport } from '../src/core/got-transport.js';
import type { TransportRequest, TransportResponse } from '../src/core/transport.js';
import { BENCH_DIR } from './lib/child.js';
import { CountingTransport } from './lib/counting-transport.js';
import { STACK_CLOUD, STACK_FLAVOR, stackEnv } from './lib/stack.js';

const FIXTURES = path.join(BENCH_DIR, 'fixtures');
const KEPT_HEADERS = ['content-type', 'openstack-api-version', 'x-openstack-nova-api-version', 'location'];

export interface Fixture {
  recorded: string;
  request: { method: string; url: string };
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const transport = new CountingTransport();
let tokenFixture: Fixture | undefined;
/** The version documents connect() reads (authenticated: Cinder answers 401 without a token). */
const negotiated: Fixture[] = [];
let secrets: string[] = [];
transport.onResponse = (req: TransportRequest, res: TransportResponse) => {
  if (req.method === 'POST' && req.url.endsWith('/auth/tokens') && res.status === 201) {
    const token = res.headers['x-subject-token'];
    if (token) secrets.push(token);
    tokenFixture = fixtureOf(req, res);
  } else if (req.method === 'GET') {
    negotiated.push(fixtureOf(req, res));
  }
};

const cloud = await connect({ cloud: STACK_CLOUD, env: stackEnv(), transport });
const { nova, cinder, glance } = cloud;
const hosts = new Map<string, string>();
/** `http://127.0.0.1:8774` (one port per service) → `{{compute}}`. */
const serviceRoot = (url: string): string => new URL(url).origin;
hosts.set(serviceRoot(cloud.info.authUrl), '{{identity}}');
hosts.set(serviceRoot(cloud.endpoints.compute), '{{compute}}');
hosts.set(serviceRoot(cloud.endpoints['block-storage']), '{{volume}}');
hosts.set(serviceRoot(cloud.endpoints.image), '{{image}}');
const knownPorts: Record<string, string> = { '8778': '{{placement}}', '9696': '{{network}}' };

function scrub(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('{{redacted}}');
  for (const [origin, placeholder] of hosts) out = out.split(origin).join(placeholder);
  out = out.replace(/https?:\/\/127\.0\.0\.1:(\d+)/g, (m, port: string) => knownPorts[port] ?? '{{host}}');
  out = out.replace(/https?:\/\/localhost:(\d+)/g, (m, port: string) => knownPorts[port] ?? '{{host}}');
  return out;
}

function fixtureOf(req: TransportRequest, res: TransportResponse): Fixture {
  const headers: Record<string, string> = {};
  for (const k of KEPT_HEADERS) {
    const v = res.headers[k];
    if (v !== undefined) headers[k] = v;
  }
  const text = res.body.toString('utf8');
  return {
    recorded: `${new Date().toISOString().slice(0, 10)}, loopback stack (test/openstack/stack.sh), member user`,
    request: { method: req.method, url: req.url },
    status: res.status,
    headers,
    body: text ? (JSON.parse(text) as unknown) : null,
  };
}

function save(name: string, f: Fixture): void {
  const text = scrub(JSON.stringify(f, null, 2));
  for (const s of secrets) if (text.includes(s)) throw new Error(`a token would be written to ${name}`);
  const cred = /"password"\s*:|x-auth-token|x-subject-token/i.exec(text);
  if (cred) throw new Error(`${name} holds a credential field (${cred[0]} at ${cred.index})`);
  writeFileSync(path.join(FIXTURES, name), `${text}\n`);
  console.log(`wrote bench/fixtures/${name}`);
}

/** An unauthenticated GET of a version document. */
async function versionDoc(url: string): Promise<Fixture> {
  const raw = createGotTransport();
  const req: TransportRequest = {
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    timeoutMs: 30_000,
    service: 'version',
  };
  return fixtureOf(req, await raw.request(req));
}

const tag = `dataswap-bench-fixture-${Date.now().toString(36)}`;
const cleanups: Array<() => Promise<unknown>> = [];
try {
  if (!tokenFixture) throw new Error('no token response was seen');
  save('identity-token.json', tokenFixture);

  for (const f of negotiated) {
    const service = [...hosts].find(([origin]) => f.request.url.startsWith(origin))?.[1].replace(/[{}]/g, '');
    const version = new URL(f.request.url).pathname.replace(/\//g, '');
    if (f.status !== 200 || !service)
      throw new Error(`unexpected version document ${f.request.url} (${f.status})`);
    save(`${service}-${version}.json`, f);
  }
  // The unversioned roots and Keystone's v3 document, which clients read without a token.
  const roots: Array<[string, string]> = [
    ['identity-root.json', `${serviceRoot(cloud.info.authUrl)}/`],
    ['identity-v3.json', `${serviceRoot(cloud.info.authUrl)}/v3/`],
    ['compute-root.json', `${serviceRoot(cloud.endpoints.compute)}/`],
    ['volume-root.json', `${serviceRoot(cloud.endpoints['block-storage'])}/`],
  ];
  for (const [name, url] of roots) save(name, await versionDoc(url));

  const flavor = await nova.flavors.findByName(STACK_FLAVOR);
  const image = await glance.images.createFromData(
    { name: `${tag}-software`, diskFormat: 'raw' },
    Buffer.alloc(1 << 20),
  );
  cleanups.push(() => glance.images.delete(image.id));
  const data = await cinder.volumes.create({
    name: `${tag}-data`,
    size: 1,
    description: 'dataswap data volume',
  });
  cleanups.push(() => cinder.volumes.delete(data.id).then(() => cinder.volumes.waitForDeleted(data.id)));
  await cinder.volumes.waitForAvailable(data.id);
  const created = await nova.servers.create({
    name: `${tag}-server`,
    flavorRef: flavor.id,
    networks: 'none',
    metadata: { 'dataswap:guest': 'bench-01', 'dataswap:role': 'guest' },
    blockDeviceMappings: [
      {
        sourceType: 'image',
        destinationType: 'volume',
        uuid: image.id,
        bootIndex: 0,
        volumeSize: 1,
        deleteOnTermination: true,
      },
      {
        sourceType: 'volume',
        destinationType: 'volume',
        uuid: data.id,
        bootIndex: -1,
        deleteOnTermination: false,
      },
    ],
  });
  cleanups.unshift(() => nova.servers.delete(created.id).then(() => nova.servers.waitForDeleted(created.id)));
  await nova.servers.waitForActive(created.id);
  await cinder.volumes.waitForInUse(data.id);

  // The two reads the benchmark replays, captured from the wire as dataswap sends them.
  let captured: Fixture | undefined;
  transport.onResponse = (req, res) => (captured = fixtureOf(req, res));
  await cinder.volumes.get(data.id);
  if (!captured) throw new Error('volume GET not captured');
  save('volume-get.json', captured);
  await nova.servers.get(created.id);
  if (!captured) throw new Error('server GET not captured');
  save('server-get.json', captured);
  transport.onResponse = undefined;
} finally {
  for (const c of cleanups) await c().catch((e: unknown) => console.error(`clean-up: ${String(e)}`));
  secrets = [];
}
