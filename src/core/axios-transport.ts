import type { Readable } from 'node:stream';
import { AbortedError, ConnectionError, RequestTimeoutError } from './errors.js';
import { bareError, redactUrl } from './redact.js';
import type { Transport, TransportRequest, TransportResponse } from './transport.js';

/**
 * The part of an `AxiosInstance` the adapter uses. Typed structurally so that axios stays an
 * optional peer dependency: pass your configured instance as it is.
 */
export interface AxiosLike {
  request(config: {
    method: string;
    url: string;
    headers: Record<string, string>;
    data?: string | Buffer | Readable;
    timeout: number;
    signal?: AbortSignal;
    responseType: 'arraybuffer';
    validateStatus: (status: number) => boolean;
    maxRedirects: number;
    transformResponse: Array<(data: unknown) => unknown>;
  }): Promise<{ status: number; headers: unknown; data: unknown }>;
}

/**
 * A transport over an axios instance the orchestrator already configured (proxies, interceptors,
 * TLS). Behaves like the got transport: no retries, no redirects, never throws on a status.
 */
export function createAxiosTransport(axios: AxiosLike): Transport {
  return {
    async request(req: TransportRequest): Promise<TransportResponse> {
      const ctx = { service: req.service, method: req.method, url: redactUrl(req.url) };
      if (req.signal?.aborted) throw new AbortedError(`${req.service} ${req.method}`, { cause: req.signal.reason });
      try {
        const res = await axios.request({
          method: req.method,
          url: req.url,
          headers: req.headers,
          ...(req.body === undefined ? {} : { data: req.body }),
          timeout: req.timeoutMs,
          ...(req.signal ? { signal: req.signal } : {}),
          responseType: 'arraybuffer',
          validateStatus: () => true,
          maxRedirects: 0,
          transformResponse: [(d) => d],
        });
        return { status: res.status, headers: lowerCaseHeaders(res.headers), body: toBuffer(res.data) };
      } catch (err) {
        if (req.signal?.aborted) throw new AbortedError(`${req.service} ${req.method} ${ctx.url}`, { cause: bareError(err) });
        const code = (err as { code?: unknown }).code;
        if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') throw new RequestTimeoutError(ctx, req.timeoutMs, { cause: bareError(err) });
        throw new ConnectionError(ctx, typeof code === 'string' ? code : String(err), { cause: bareError(err) });
      }
    },
  };
}

function lowerCaseHeaders(headers: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const source =
    headers && typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : (headers as Record<string, unknown> | undefined) ?? {};
  for (const [k, v] of Object.entries(source)) {
    if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (typeof data === 'string') return Buffer.from(data);
  return Buffer.alloc(0);
}
