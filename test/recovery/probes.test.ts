import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { CommandResult } from '../../src/recovery/command.js';
import type { Os } from '../../src/recovery/os.js';
import { createNodeOs } from '../../src/recovery/os.js';
import type { HealthProbe } from '../../src/recovery/probes.js';
import {
  allOf,
  anyOf,
  commandProbe,
  createProbe,
  httpProbe,
  systemdProbe,
  tcpProbe,
} from '../../src/recovery/probes.js';

const os = createNodeOs();
let server: http.Server;
let base: string;
let silentTcp: net.Server;
let silentPort: number;
const hung = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    if (req.url === '/no-content') return res.writeHead(204).end();
    if (req.url === '/hang') return void hung.add(res);
    res.writeHead(503).end('down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  silentTcp = net.createServer(() => {});
  await new Promise<void>((resolve) => silentTcp.listen(0, '127.0.0.1', resolve));
  silentPort = (silentTcp.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const res of hung) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => silentTcp.close(resolve));
});

/** A port nobody listens on (briefly bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const fixed = (ok: boolean, reason = 'down'): HealthProbe => ({
  check: async () => (ok ? { ok: true } : { ok: false, reason }),
});

describe('HTTP probe (loopback server)', () => {
  it('is healthy on 2xx', async () => {
    await expect(httpProbe(`${base}/health`, 1_000).check()).resolves.toEqual({ ok: true });
    await expect(httpProbe(`${base}/no-content`, 1_000).check()).resolves.toEqual({ ok: true });
  });

  it('is unhealthy on another status, naming it', async () => {
    await expect(httpProbe(`${base}/broken`, 1_000).check()).resolves.toEqual({
      ok: false,
      reason: `GET ${base}/broken answered HTTP 503`,
    });
  });

  it('times out on a server that never answers', async () => {
    const started = Date.now();
    await expect(httpProbe(`${base}/hang`, 150).check()).resolves.toEqual({
      ok: false,
      reason: `GET ${base}/hang: no answer within 150 ms`,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('is unhealthy when nothing listens', async () => {
    const port = await closedPort();
    await expect(httpProbe(`http://127.0.0.1:${port}/`, 1_000).check()).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const checking = httpProbe(`${base}/hang`, 10_000).check({ signal: controller.signal });
    controller.abort();
    await expect(checking).resolves.toEqual({ ok: false, reason: `GET ${base}/hang: aborted` });
  });
});

describe('TCP probe (loopback server)', () => {
  it('is healthy when the port accepts', async () => {
    await expect(tcpProbe('127.0.0.1', silentPort, 1_000).check()).resolves.toEqual({ ok: true });
  });

  it('is unhealthy when the connection is refused', async () => {
    const port = await closedPort();
    await expect(tcpProbe('127.0.0.1', port, 1_000).check()).resolves.toMatchObject({
      ok: false,
      reason: expect.stringMatching(new RegExp(`^connect 127.0.0.1:${port}: .*ECONNREFUSED`)),
    });
  });

  it('times out when the connection never opens (connect stubbed: loopback always answers at once)', async () => {
    const socket = new net.Socket();
    const connect = jest.spyOn(net, 'connect').mockReturnValue(socket);
    try {
      await expect(tcpProbe('127.0.0.1', 1, 100).check()).resolves.toEqual({
        ok: false,
        reason: 'connect 127.0.0.1:1: no answer within 100 ms',
      });
      expect(socket.destroyed).toBe(true);
    } finally {
      connect.mockRestore();
    }
  });
});

describe('command probe (real commands)', () => {
  it('is healthy when the command exits 0, unhealthy otherwise', async () => {
    await expect(commandProbe(os, { argv: ['true'] }, 1_000).check()).resolves.toEqual({ ok: true });
    await expect(commandProbe(os, { argv: ['false'] }, 1_000).check()).resolves.toEqual({
      ok: false,
      reason: 'false: exit code 1',
    });
  });

  it('times out', async () => {
    await expect(commandProbe(os, { argv: ['sleep', '10'] }, 100).check()).resolves.toEqual({
      ok: false,
      reason: 'sleep 10: timed out',
    });
  });
});

describe('systemd probe', () => {
  const answering = (exitCode: number, stdout: string, seen: unknown[] = []): Os =>
    ({
      exec: async (command: unknown, options: unknown) => {
        seen.push([command, options]);
        return { exitCode, signal: null, timedOut: false, stdout, stderr: '' } satisfies CommandResult;
      },
    }) as unknown as Os;

  it('asks `systemctl is-active <unit>`', async () => {
    const seen: unknown[] = [];
    await expect(systemdProbe(answering(0, 'active\n', seen), 'app.service', 2_000).check()).resolves.toEqual(
      { ok: true },
    );
    expect(seen).toEqual([[{ argv: ['systemctl', 'is-active', 'app.service'] }, { timeoutMs: 2_000 }]]);
  });

  it('names the unit state when it is not active', async () => {
    await expect(systemdProbe(answering(3, 'failed\n'), 'app.service', 2_000).check()).resolves.toEqual({
      ok: false,
      reason: 'unit app.service is failed',
    });
  });
});

describe('combined probes', () => {
  it('all: healthy only when every probe is, keeping every reason', async () => {
    await expect(allOf([fixed(true), fixed(true)]).check()).resolves.toEqual({ ok: true });
    await expect(allOf([fixed(false, 'a'), fixed(true), fixed(false, 'b')]).check()).resolves.toEqual({
      ok: false,
      reason: 'a; b',
    });
  });

  it('any: healthy when one probe is', async () => {
    await expect(anyOf([fixed(false), fixed(true)]).check()).resolves.toEqual({ ok: true });
    await expect(anyOf([fixed(false, 'a'), fixed(false, 'b')]).check()).resolves.toEqual({
      ok: false,
      reason: 'none healthy: a; b',
    });
  });

  it('builds nested probes from a configuration', async () => {
    const probe = createProbe(
      {
        type: 'all',
        probes: [
          { type: 'http', url: `${base}/health`, timeoutMs: 1_000 },
          { type: 'tcp', host: '127.0.0.1', port: silentPort, timeoutMs: 1_000 },
          {
            type: 'any',
            probes: [
              { type: 'command', command: { argv: ['false'] }, timeoutMs: 1_000 },
              { type: 'command', command: { shell: 'exit 0' }, timeoutMs: 1_000 },
            ],
          },
        ],
      },
      os,
    );
    await expect(probe.check()).resolves.toEqual({ ok: true });
    const broken = createProbe(
      {
        type: 'all',
        probes: [
          { type: 'http', url: `${base}/x`, timeoutMs: 1_000 },
          { type: 'systemd', unit: 'u', timeoutMs: 1_000 },
        ],
      },
      {
        ...os,
        exec: async () => ({ exitCode: 3, signal: null, timedOut: false, stdout: 'inactive', stderr: '' }),
      },
    );
    await expect(broken.check()).resolves.toEqual({
      ok: false,
      reason: `GET ${base}/x answered HTTP 503; unit u is inactive`,
    });
  });
});
