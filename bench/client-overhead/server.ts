/**
 * The loopback server of the client-overhead benchmark: answers the recorded `GET /volumes/{id}`
 * and `GET /servers/{id}` at once from memory, plus what a client needs to get there — a Keystone
 * token with its catalog (`POST /identity/v3/auth/tokens`, any credentials) and the version
 * documents of Keystone, Nova and Cinder. Services live under `/identity`, `/compute`, `/volume`
 * on one port. Prints `READY {"base": …}` once it listens; on SIGTERM prints the calls it answered
 * on stderr, with any path it did not know.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadFixtures, type Fixture } from '../lib/fixtures.js';

interface Canned {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
}

const server = http.createServer();
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}`;
const fixtures = loadFixtures(base);

const routes = new Map<string, Canned>();
const counts = new Map<string, number>();
let requestSeq = 0;

function canned(f: Fixture, body: unknown = f.body): Canned {
  const buf = Buffer.from(JSON.stringify(body));
  return {
    status: f.status,
    headers: {
      ...f.headers,
      'content-type': f.headers['content-type'] ?? 'application/json',
      'content-length': buf.length,
    },
    body: buf,
  };
}

for (const [name, f] of fixtures) {
  if (name === 'identity-token.json') continue;
  const p = new URL(f.request.url).pathname;
  const c = canned(f);
  routes.set(`${f.request.method} ${p}`, c);
  // Clients ask for version documents with and without the trailing slash.
  if (p.endsWith('/') && p.length > 1) routes.set(`${f.request.method} ${p.slice(0, -1)}`, c);
}

const tokenFixture = fixtures.get('identity-token.json');
if (!tokenFixture) throw new Error('identity-token.json is missing');
const tokenPath = new URL(tokenFixture.request.url).pathname;

function tokenAnswer(): Canned {
  const body = structuredClone(tokenFixture?.body) as { token: Record<string, unknown> };
  const now = Date.now();
  body.token.issued_at = new Date(now).toISOString().replace('Z', '000Z');
  body.token.expires_at = new Date(now + 3_600_000).toISOString().replace('Z', '000Z');
  const c = canned(tokenFixture as Fixture, body);
  c.headers['x-subject-token'] = `bench${randomBytes(16).toString('hex')}`;
  return c;
}

server.on('request', (req, res) => {
  const p = (req.url ?? '/').split('?')[0] ?? '/';
  const key = `${req.method ?? 'GET'} ${p}`;
  let c = req.method === 'POST' && p === tokenPath ? tokenAnswer() : routes.get(key);
  if (!c) {
    const body = Buffer.from(
      JSON.stringify({ itemNotFound: { code: 404, message: `no recorded answer for ${key}` } }),
    );
    c = { status: 404, headers: { 'content-type': 'application/json', 'content-length': body.length }, body };
    counts.set(`unknown ${key}`, (counts.get(`unknown ${key}`) ?? 0) + 1);
  } else {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Drain a request body (the token POST) before answering.
  req.resume();
  req.on('end', () => {
    res.writeHead(c.status, { ...c.headers, 'x-openstack-request-id': `req-bench-${++requestSeq}` });
    res.end(c.body);
  });
});

process.on('SIGTERM', () => {
  process.stderr.write(`${JSON.stringify(Object.fromEntries(counts))}\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
process.stdout.write(`READY ${JSON.stringify({ base, pid: process.pid })}\n`);
