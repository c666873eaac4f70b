/**
 * One client of the client-overhead benchmark, in a process of its own:
 *
 *   client.ts <variant> <base> <requests> <in-flight> <warm-up>
 *
 * Variants: `bare-http` (node:http, keep-alive agent, body read and JSON-parsed), `got` (got 14,
 * same agent settings, `.json()`, no validation), `dataswap` (connect() against the fake Keystone,
 * then `cinder.volumes.get` / `nova.servers.get`: token, microversion headers, zod validation,
 * retry wrapper, silent logger); and two what-ifs for the README's recommendations: `dataswap-http`
 * (dataswap on bench/lib/node-http-transport.ts) and `dataswap-http-noretry` (same, retries 0, so
 * the p-retry wrapper is not entered). Requests alternate between the recorded volume and server. Prints
 * wall time and CPU time of the sequential and the concurrent phase, and the peak RSS.
 */
import http from 'node:http';
import got from 'got';
import { connect, type ConnectOptions } from '../../src/connect.js';
import { emitResult, peakRssMiB } from '../lib/child.js';
import { loadFixtures, recordedIds } from '../lib/fixtures.js';
import { createNodeHttpTransport } from '../lib/node-http-transport.js';

const [variant = 'bare-http', base = '', nText = '5000', inflightText = '64', warmText = '200'] =
  process.argv.slice(2);
const n = Number(nText);
const inflight = Number(inflightText);
const warm = Number(warmText);
const { volumeId, serverId, projectId } = recordedIds(loadFixtures(base));
const volumeUrl = `${base}/volume/v3/${projectId}/volumes/${volumeId}`;
const serverUrl = `${base}/compute/v2.1/servers/${serverId}`;
const headers = { accept: 'application/json', 'x-auth-token': 'bench-token' };

type Get = (i: number) => Promise<unknown>;

function bareHttp(): Get {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const fetchJson = (url: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = http.get(url, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${url}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  return (i) => fetchJson(i % 2 ? serverUrl : volumeUrl);
}

function rawGot(): Get {
  const client = got.extend({
    retry: { limit: 0 },
    agent: { http: new http.Agent({ keepAlive: true, maxSockets: 64 }) },
    headers,
  });
  return (i) => client.get(i % 2 ? serverUrl : volumeUrl).json();
}

async function dataswap(extra: Pick<ConnectOptions, 'transport' | 'retry'> = {}): Promise<Get> {
  const cloud = await connect({
    auth: {
      authUrl: `${base}/identity/v3`,
      type: 'password',
      username: 'bench',
      password: 'bench',
      userDomainName: 'Default',
      projectName: 'bench',
      projectDomainName: 'Default',
    },
    ...extra,
  });
  return (i) => (i % 2 ? cloud.nova.servers.get(serverId) : cloud.cinder.volumes.get(volumeId));
}

async function makeGet(): Promise<Get> {
  switch (variant) {
    case 'bare-http':
      return bareHttp();
    case 'got':
      return rawGot();
    case 'dataswap':
      return dataswap();
    case 'dataswap-http':
      return dataswap({ transport: createNodeHttpTransport() });
    case 'dataswap-http-noretry':
      // retries: 0 makes withRetry call the attempt directly: what a fast path that enters p-retry
      // only after a first failure would cost.
      return dataswap({ transport: createNodeHttpTransport(), retry: { retries: 0 } });
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

interface Phase {
  requests: number;
  inflight: number;
  wallMs: number;
  cpuMs: number;
}

async function phase(get: Get, count: number, parallel: number): Promise<Phase> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) await get(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { requests: count, inflight: parallel, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const get = await makeGet();
// Each phase right after its own warm-up.
await phase(get, warm, 1);
const sequential = await phase(get, n, 1);
await phase(get, warm, inflight);
const concurrent = await phase(get, n, inflight);
emitResult({ variant, sequential, concurrent, peakRssMiB: peakRssMiB() });
