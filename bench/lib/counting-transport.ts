import { createGotTransport } from '../../src/core/got-transport.js';
import type { Transport, TransportRequest, TransportResponse } from '../../src/core/transport.js';

/** One request as seen by the counting transport (no headers: they carry the token). */
export interface SeenRequest {
  method: string;
  url: string;
  service: string;
  status: number | undefined;
  ms: number;
}

/**
 * A transport that counts (and optionally keeps) every HTTP request the library sends, in front of
 * the default got transport. It counts what goes on the wire: retries and re-authentications are
 * requests too.
 */
export class CountingTransport implements Transport {
  count = 0;
  readonly byService = new Map<string, number>();
  readonly log: SeenRequest[] = [];
  /** Keep each request in `log` (off for throughput runs). */
  keepLog = false;
  /** Called with each answer, e.g. to record fixtures. */
  onResponse: ((req: TransportRequest, res: TransportResponse) => void) | undefined;

  constructor(private readonly inner: Transport = createGotTransport()) {}

  async request(req: TransportRequest): Promise<TransportResponse> {
    this.count++;
    this.byService.set(req.service, (this.byService.get(req.service) ?? 0) + 1);
    const started = performance.now();
    let status: number | undefined;
    try {
      const res = await this.inner.request(req);
      status = res.status;
      this.onResponse?.(req, res);
      return res;
    } finally {
      if (this.keepLog)
        this.log.push({
          method: req.method,
          url: req.url,
          service: req.service,
          status,
          ms: performance.now() - started,
        });
    }
  }

  /** Requests counted since `mark` was taken. */
  mark(): () => number {
    const at = this.count;
    return () => this.count - at;
  }
}
