import type { Readable } from 'node:stream';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One HTTP request as the service layer hands it to a transport. */
export interface TransportRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  /** A JSON text, raw bytes, or a stream (image upload). */
  body?: string | Buffer | Readable;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Names the service in transport errors (`compute`, `volume`…). */
  service: string;
}

/** The answer: any status is a normal answer here; the service layer decides what is an error. */
export interface TransportResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/**
 * What every HTTP backend implements. The default is got ({@link createGotTransport}); an
 * orchestrator that standardised on axios can pass its own instance through the axios adapter.
 * Implementations throw only {@link ConnectionError}, {@link RequestTimeoutError} or
 * {@link AbortedError}; they never retry and never throw on an HTTP status.
 */
export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
}
