/**
 * A measurement aid, not part of the library: the {@link Transport} contract implemented directly on
 * node:http/https (keep-alive agents, a per-request timeout, AbortSignal, gzip/deflate bodies,
 * the same typed errors as the got transport). The client-overhead benchmark runs dataswap over it
 * (`dataswap-http`) to show what the transport costs; the README's recommendation refers to it.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { AbortedError, ConnectionError, RequestTimeoutError } from '../../src/core/errors.js';
import { bareError, redactUrl } from '../../src/core/redact.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/core/transport.js';

export function createNodeHttpTransport(tls: { ca?: string; insecure?: boolean } = {}): Transport {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    ...(tls.ca ? { ca: tls.ca } : {}),
    rejectUnauthorized: !tls.insecure,
  });

  return {
    request(req: TransportRequest): Promise<TransportResponse> {
      const ctx = (): { service: string; method: string; url: string } => ({
        service: req.service,
        method: req.method,
        url: redactUrl(req.url),
      });
      if (req.signal?.aborted)
        return Promise.reject(new AbortedError(`${req.service} ${req.method}`, { cause: req.signal.reason }));
      const secure = req.url.startsWith('https:');
      return new Promise<TransportResponse>((resolve, reject) => {
        let settled = false;
        const fail = (err: Error): void => {
          if (settled) return;
          settled = true;
          cleanup();
          reject(err);
        };
        const headers: Record<string, string | number> = {
          'accept-encoding': 'gzip, deflate',
          ...req.headers,
        };
        if (typeof req.body === 'string' || Buffer.isBuffer(req.body))
          headers['content-length'] = Buffer.byteLength(req.body);
        const client = (secure ? https : http).request(req.url, {
          method: req.method,
          headers,
          agent: secure ? httpsAgent : httpAgent,
        });
        const timer = setTimeout(() => {
          fail(new RequestTimeoutError(ctx(), req.timeoutMs));
          client.destroy();
        }, req.timeoutMs);
        const onAbort = (): void => {
          fail(new AbortedError(`${req.service} ${req.method} ${ctx().url}`, { cause: req.signal?.reason }));
          client.destroy();
        };
        req.signal?.addEventListener('abort', onAbort, { once: true });
        const cleanup = (): void => {
          clearTimeout(timer);
          req.signal?.removeEventListener('abort', onAbort);
        };
        client.on('error', (err) =>
          fail(
            new ConnectionError(ctx(), (err as NodeJS.ErrnoException).code ?? err.message, {
              cause: bareError(err),
            }),
          ),
        );
        client.on('response', (res) => {
          const encoding = res.headers['content-encoding'];
          const stream: Readable =
            encoding === 'gzip'
              ? res.pipe(zlib.createGunzip())
              : encoding === 'deflate'
                ? res.pipe(zlib.createInflate())
                : res;
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (err) =>
            fail(new ConnectionError(ctx(), err.message, { cause: bareError(err) })),
          );
          stream.on('end', () => {
            if (settled) return;
            settled = true;
            cleanup();
            const out: Record<string, string | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({
              status: res.statusCode ?? 0,
              headers: out,
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
            });
          });
        });
        if (req.body instanceof Readable) req.body.pipe(client);
        else client.end(req.body);
      });
    },
  };
}
