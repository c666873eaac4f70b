import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { silentLogger, type Logger } from '../../core/logger.js';
import { isDataswapError } from '../../core/errors.js';
import type { ManagementDevice } from '../device.js';
import { GUEST_ID_PATTERN } from '../labels.js';
import { guestActions, type StartResult } from './guest-actions.js';
import { describeError, type Operation, type OperationStore } from './operations.js';
import { NonceCache, parseAuthorization, verifySignature } from './signing.js';

export interface GuestApiOptions {
  /** Largest request body accepted, bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** How far a request's timestamp may be from our clock, ms. Default 5 minutes. */
  clockSkewMs?: number;
  /** How long a guest's credential epoch is cached, ms. Default 60 s. */
  epochCacheMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** The guest-facing HTTP API of a management device: mount `handler`, or `listen()`. */
export interface GuestApi {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  operations: OperationStore;
  listen(port?: number, host?: string): Promise<{ url: string; server: Server; close: () => Promise<void> }>;
}

/** Error codes of the guest API: stable, for guests to switch on. */
export type GuestApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'SIGNATURE_EXPIRED'
  | 'REPLAYED_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_JSON'
  | 'INVALID_BODY'
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFLICT'
  /** The HTTP layer could not parse the request (a bare CR or LF in a header, a NUL, an obs-fold…). */
  | 'MALFORMED_REQUEST'
  | 'INTERNAL';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: GuestApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const KEY_PATTERN = /^[A-Za-z0-9._:-]{8,64}$/;
const GUEST_ROUTE = /^\/v1\/guests\/([a-z0-9-]{1,40})(\/backups|\/data-volumes|\/data-volume:swap|\/data-volume:confirm|\/data-volume:rollback|\/handover)?$/;
const OPERATION_ROUTE = /^\/v1\/operations\/([^/?#]{1,256})$/;

/** An operation id from its path segment: clients percent-encode it (`:` as `%3A`); undefined when not a key. */
function operationId(segment: string): string | undefined {
  try {
    const id = decodeURIComponent(segment);
    return KEY_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

const sourceSchema = z.union([
  z.literal('latest'),
  z.literal('startup'),
  z.strictObject({ generation: z.number().int().min(1).max(1_000_000) }),
  z.strictObject({ previous: z.number().int().min(1).max(1_000) }),
]);
const bodies = {
  empty: z.strictObject({}),
  swapRef: z.strictObject({ swapOperationId: z.string().regex(KEY_PATTERN).optional() }),
  dataVolume: z.strictObject({ source: sourceSchema }),
  swap: z.strictObject({ volumeId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'expected a volume UUID') }),
  handover: z.strictObject({ reason: z.string().min(1).max(1000) }),
};

/**
 * The channel between a guest's recovery agent and the management device. Each request is signed
 * with the guest's credential (see signing.ts); a guest acts on its own server and volumes only.
 * Long operations answer 202 with an operation to poll; an `Idempotency-Key` makes retries safe.
 */
export function createGuestApi(device: ManagementDevice, options: GuestApiOptions = {}): GuestApi {
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const skew = options.clockSkewMs ?? 300_000;
  const epochTtl = options.epochCacheMs ?? 60_000;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const nonces = new NonceCache(skew);
  const actions = guestActions(device);
  const operations = actions.operations;
  const epochs = new Map<string, { epoch: number; until: number }>();

  async function epochOf(guestId: string): Promise<number | undefined> {
    const cached = epochs.get(guestId);
    if (cached && cached.until > now()) return cached.epoch;
    try {
      const epoch = await device.credentialEpoch(guestId);
      epochs.set(guestId, { epoch, until: now() + epochTtl });
      return epoch;
    } catch (err) {
      if (isDataswapError(err) && err.code === 'GUEST_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Who signed the request; 401 for anything but a valid, fresh, first-seen signature. */
  async function authenticate(req: IncomingMessage, path: string, body: Buffer): Promise<string> {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth || !GUEST_ID_PATTERN.test(auth.guestId)) throw new HttpError(401, 'UNAUTHENTICATED', 'missing or malformed credential');
    const epoch = await epochOf(auth.guestId);
    // An unknown guest gets the same answer as a bad signature: existence is not revealed.
    if (epoch === undefined || !verifySignature(auth, device.guestSecret(auth.guestId, epoch), { method: req.method ?? '', path, body })) {
      throw new HttpError(401, 'UNAUTHENTICATED', 'invalid credential');
    }
    if (Math.abs(now() - auth.ts * 1000) > skew) throw new HttpError(401, 'SIGNATURE_EXPIRED', 'request timestamp outside the allowed window');
    if (!nonces.accept(auth.guestId, auth.nonce, now())) throw new HttpError(401, 'REPLAYED_REQUEST', 'request already seen');
    return auth.guestId;
  }

  function accepted(started: StartResult): { status: number; body: unknown } {
    if ('conflict' in started) throw new HttpError(409, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with another request');
    return { status: 202, body: { operation: started.op } };
  }

  async function route(req: IncomingMessage, path: string, body: Buffer): Promise<{ status: number; body: unknown }> {
    const method = req.method ?? 'GET';
    const guestMatch = GUEST_ROUTE.exec(path);
    const opSegment = OPERATION_ROUTE.exec(path)?.[1];
    const opId = opSegment === undefined ? undefined : operationId(opSegment);
    if (!guestMatch && opId === undefined) throw new HttpError(404, 'NOT_FOUND', 'no such route');
    const caller = await authenticate(req, path, body);

    if (opId !== undefined) {
      if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'GET only');
      // Operations are looked up in the caller's own space: another guest's id is simply not found.
      const op = operations.get(caller, opId);
      if (!op) throw new HttpError(404, 'NOT_FOUND', 'no such operation');
      return { status: 200, body: { operation: op } };
    }
    const guestId = guestMatch![1]!;
    const action = guestMatch![2] ?? '';
    if (guestId !== caller) throw new HttpError(403, 'FORBIDDEN', 'a guest may act on its own resources only');

    const expectMethod = (m: string): void => {
      if (method !== m) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${m} only`);
    };
    const parse = <S extends z.ZodType>(schema: S): z.infer<S> => {
      if (body.length > 0 && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
      }
      let json: unknown = {};
      if (body.length > 0) {
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          throw new HttpError(400, 'INVALID_JSON', 'body is not JSON');
        }
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new HttpError(400, 'INVALID_BODY', 'body does not match the schema', parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`));
      }
      return parsed.data;
    };
    const key = (): string => {
      const header = req.headers['idempotency-key'];
      if (header === undefined) return randomUUID();
      if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
        throw new HttpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 8–64 characters of A–Z, a–z, 0–9, ".", "_", ":", "-"');
      }
      return header;
    };
    const text = body.toString('utf8');

    switch (action) {
      case '':
        expectMethod('GET');
        return { status: 200, body: { guest: await device.getGuest(guestId) } };
      case '/backups':
        if (method === 'GET') return { status: 200, body: { backups: await device.listBackups(guestId) } };
        expectMethod('POST');
        parse(bodies.empty);
        return accepted(actions.backup(guestId, key()));
      case '/data-volumes': {
        expectMethod('POST');
        const { source } = parse(bodies.dataVolume);
        return accepted(actions.dataVolume(guestId, source, key(), text));
      }
      case '/data-volume:swap': {
        expectMethod('POST');
        const { volumeId } = parse(bodies.swap);
        return accepted(actions.swap(guestId, volumeId.toLowerCase(), key(), text));
      }
      case '/data-volume:confirm': {
        expectMethod('POST');
        const { swapOperationId } = parse(bodies.swapRef);
        return accepted(actions.confirm(guestId, key(), swapOperationId, text));
      }
      case '/data-volume:rollback': {
        expectMethod('POST');
        const { swapOperationId } = parse(bodies.swapRef);
        return accepted(actions.rollback(guestId, key(), swapOperationId, text));
      }
      case '/handover': {
        expectMethod('POST');
        const { reason } = parse(bodies.handover);
        await device.requestHandover(guestId, reason, { requestId: key() });
        return { status: 202, body: { handover: { guestId, reason } } };
      }
      default:
        throw new HttpError(404, 'NOT_FOUND', 'no such route');
    }
  }

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > maxBody) return reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `body over ${maxBody} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          // The rest is read and dropped, not cut off: destroying the request would lose the 413 too.
          chunks.length = 0;
          reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `body over ${maxBody} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function send(res: ServerResponse, status: number, body: unknown, requestId: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-request-id': requestId,
    });
    res.end(text);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = now();
    const requestId = `req-${randomUUID()}`;
    const path = req.url ?? '/';
    let guest: string | undefined;
    void (async () => {
      try {
        const body = await readBody(req);
        const out = await route(req, path, body);
        guest = parseAuthorization(req.headers.authorization)?.guestId;
        send(res, out.status, out.body, requestId);
      } catch (err) {
        const e =
          err instanceof HttpError
            ? err
            : isDataswapError(err) && err.code === 'GUEST_STATE'
              ? new HttpError(409, 'CONFLICT', err.message)
              : isDataswapError(err) && err.code === 'GUEST_NOT_FOUND'
                ? new HttpError(404, 'NOT_FOUND', 'no such guest')
                : new HttpError(500, 'INTERNAL', 'internal error');
        if (e.status === 500) logger.error({ requestId, error: describeError(err) }, 'guest API failure');
        if (!res.headersSent) send(res, e.status, { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } }, requestId);
      } finally {
        // Method, path and outcome only: never the Authorization header or a body.
        logger.info({ requestId, method: req.method, path: path.slice(0, 200), guest, status: res.statusCode, durationMs: now() - started }, 'guest API');
      }
    })();
  };

  return {
    handler,
    operations,
    async listen(port = 0, host = '127.0.0.1') {
      const server = createServer(handler);
      // A request Node's parser refuses never reaches the handler: answer it in the API's format too.
      server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
        if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
        const [status, reason] =
          err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
        const text = JSON.stringify({ error: { code: 'MALFORMED_REQUEST', message: 'the request is not valid HTTP' } });
        socket.end(
          `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${text}`,
        );
      });
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const addr = server.address() as { port: number };
      return {
        url: `http://${host}:${addr.port}`,
        server,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  };
}

export type { Operation };
