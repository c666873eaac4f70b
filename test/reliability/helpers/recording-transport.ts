/** A transport that passes every call on and keeps what a secrets scan needs: every credential header seen. */
import { createGotTransport } from '../../../src/core/got-transport.js';
import type { Transport, TransportRequest, TransportResponse } from '../../../src/core/transport.js';

export class SecretRecordingTransport implements Transport {
  /** Token values, `Authorization` values and HMAC signatures that went over the wire. */
  readonly secrets = new Set<string>();
  calls = 0;
  /** Requests in flight now, and the most at once. */
  inFlight = 0;
  peak = 0;
  private readonly inner: Transport;

  constructor(inner: Transport = createGotTransport()) {
    this.inner = inner;
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    this.calls++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.toLowerCase() === 'x-auth-token') this.secrets.add(value);
      if (name.toLowerCase() === 'authorization') {
        this.secrets.add(value);
        const sig = /sig="([^"]+)"/.exec(value)?.[1];
        if (sig) this.secrets.add(sig);
      }
    }
    try {
      const res = await this.inner.request(req);
      const subject = res.headers['x-subject-token'];
      if (subject) this.secrets.add(subject);
      return res;
    } finally {
      this.inFlight--;
    }
  }
}
