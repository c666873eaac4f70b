import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, notFound, unauthorized } from '../errors.js';
import type { FaultAction, FaultEngine } from '../faults.js';
import { newRequestId } from '../ids.js';
import { microversionHeaders, requestedMicroversion, type Microversion } from '../microversion.js';
import type { StatsCounter } from '../stats.js';
import type { World } from '../world.js';
import { readJsonBody } from './body.js';
import type { AuthInfo, Reply, RequestContext } from './context.js';
import { errorBodyFor, keystoneErrorBody, REASONS, type ErrorBody } from './error-format.js';
import { Router } from './router.js';
import type { ServiceDefinition } from './service.js';

/** Resolves a token to its caller, or undefined when it is unknown, revoked, expired or unscoped. */
export type Authenticator = (token: string | undefined) => AuthInfo | undefined;

interface MountedService {
  def: ServiceDefinition;
  router: Router;
}

/** Header name → value, with case-insensitive replacement. */
class Headers {
  private readonly map = new Map<string, [string, string]>();

  set(name: string, value: string): this {
    this.map.set(name.toLowerCase(), [name, value]);
    return this;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  merge(other: Readonly<Record<string, string>> | undefined): this {
    if (other) for (const [k, v] of Object.entries(other)) this.set(k, v);
    return this;
  }

  toObject(): Record<string, string> {
    return Object.fromEntries([...this.map.values()]);
  }
}

/**
 * The emulator's HTTP front: one node:http server on 127.0.0.1 that routes by path prefix to the
 * four services, and for each call counts it, applies injected faults, checks the token and the
 * microversion, parses the body, runs the handler and writes the answer with the service's
 * headers and error format.
 */
export class ApiServer {
  private readonly server: Server;
  private readonly services: MountedService[];

  constructor(
    private readonly world: World,
    services: readonly ServiceDefinition[],
    private readonly stats: StatsCounter,
    private readonly faults: FaultEngine,
    private readonly authenticate: Authenticator,
  ) {
    this.services = services.map((def) => ({ def, router: new Router(def.routes) }));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        // handle() answers every error itself; this only guards against a failure while writing.
        if (!res.headersSent) res.destroy();
      });
    });
    // Keep-alive sockets idle between a test's requests must not hold the process open forever.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Starts listening on 127.0.0.1; resolves with the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and destroys every connection, hung requests included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const mounted = this.services.find((s) => path === s.def.prefix || path.startsWith(`${s.def.prefix}/`));
    if (!mounted) {
      this.stats.record('unknown');
      this.write(res, 404, new Headers().set('x-openstack-request-id', requestId), {
        contentType: 'text/plain; charset=UTF-8',
        text: '404 Not Found\n\nThe resource could not be found.\n',
      });
      return;
    }
    const { def } = mounted;
    const match = mounted.router.match(method, path);
    // The JSON body is read first so an action can be named by its body (`nova.server.reboot`);
    // a streamed body (image upload) is left to its handler.
    let body: unknown;
    let bodyError: unknown;
    if (match.kind === 'found' && !match.route.rawBody) {
      try {
        body = await readJsonBody(req, def.malformedBodyMessage);
      } catch (err) {
        bodyError = err;
      }
    }
    const operation =
      match.kind === 'found' ? ((bodyError === undefined ? match.route.operationOf?.(body) : undefined) ?? match.route.operation) : `${def.name}.unknown`;
    this.stats.record(operation);

    const base = new Headers().set('x-openstack-request-id', requestId);
    // Nova's compute_req_id middleware adds its own header with the same id.
    if (def.name === 'nova') base.set('x-compute-request-id', requestId);

    const decision = this.faults.decide({ operation, method, path });
    if (decision?.phase === 'before') {
      const outcome = await this.injectBefore(decision.action, req, res, def, base);
      if (outcome === 'answered') return;
    }

    let microversion: Microversion | undefined;
    let reply: Reply;
    try {
      if (match.kind === 'none') throw notFound();
      if (match.kind === 'wrong-method') {
        throw new ApiError(405, 'The method specified is not allowed for this resource.', { Allow: match.allowed.join(', ') });
      }
      const { route, params } = match;
      let auth: AuthInfo | undefined;
      if (!route.public) {
        auth = this.authenticate(headerValue(req, 'x-auth-token'));
        if (!auth) {
          throw new ApiError(401, 'The request you have made requires authentication.', {
            'WWW-Authenticate': `Keystone uri="${this.world.baseUrl}/identity"`,
          });
        }
        if (def.projectParam !== undefined && params[def.projectParam] !== auth.projectId) {
          // Cinder's wsgi.Resource refuses a URL naming another project than the token's.
          throw new ApiError(400, 'Malformed request url');
        }
        if (def.microversion) {
          microversion = requestedMicroversion(req.headers, def.microversion, this.world.ranges[def.microversion]);
        }
      }
      if (bodyError !== undefined) throw bodyError;
      const ctx: RequestContext = { method, path, params, query: url.searchParams, headers: req.headers, requestId, req, body, microversion };
      if (route.public) reply = await route.handler(ctx, this.world);
      else if (auth) reply = await route.handler({ ...ctx, auth }, this.world);
      else throw unauthorized();
    } catch (err) {
      reply = this.errorReply(def, err, req);
    }
    if (microversion && def.microversion) base.merge(microversionHeaders(def.microversion, microversion));

    if (decision?.phase === 'after') {
      await this.injectAfter(decision.action, req, res, def, base, reply);
      return;
    }
    this.writeReply(res, reply, base);
  }

  /** Applies a fault before the call runs: answers (or drops) the call, or delays it. */
  private async injectBefore(
    action: FaultAction,
    req: IncomingMessage,
    res: ServerResponse,
    def: ServiceDefinition,
    base: Headers,
  ): Promise<'answered' | 'continue'> {
    this.stats.recordFault();
    switch (action.kind) {
      case 'reset':
        req.socket.destroy();
        return 'answered';
      case 'hang':
        // Never answering: the client's own timeout (or close()) ends the request.
        if (action.ms === undefined) return 'answered';
        await this.world.timers.sleep(action.ms);
        return 'continue';
      case 'status':
        this.writeReply(res, this.faultReply(action, def, req), base);
        return 'answered';
    }
  }

  /** Applies a fault after the call ran: its answer is replaced, delayed or lost. */
  private async injectAfter(
    action: FaultAction,
    req: IncomingMessage,
    res: ServerResponse,
    def: ServiceDefinition,
    base: Headers,
    reply: Reply,
  ): Promise<void> {
    this.stats.recordFault();
    switch (action.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        if (action.ms === undefined) return;
        await this.world.timers.sleep(action.ms);
        this.writeReply(res, reply, base);
        return;
      case 'status':
        this.writeReply(res, this.faultReply(action, def, req), base);
        return;
    }
  }

  private faultReply(action: Extract<FaultAction, { kind: 'status' }>, def: ServiceDefinition, req: IncomingMessage): Reply {
    const headers: Record<string, string> = { ...action.headers };
    if (action.retryAfter !== undefined) headers['Retry-After'] = String(action.retryAfter);
    if (typeof action.body === 'string') return { status: action.status, text: action.body, headers };
    if (action.body !== undefined) return { status: action.status, body: action.body, headers };
    const message = `Injected fault: ${action.status} ${REASONS[action.status] ?? 'Error'}`;
    const formatted = action.status === 401 ? keystoneErrorBody(401, message) : errorBodyFor(def.name, action.status, message, req.headers);
    return { status: action.status, text: formatted.text, headers: { 'Content-Type': formatted.contentType, ...headers } };
  }

  private errorReply(def: ServiceDefinition, err: unknown, req: IncomingMessage): Reply {
    const apiError = err instanceof ApiError ? err : new ApiError(500, `Unexpected API Error: ${err instanceof Error ? err.message : String(err)}`);
    // keystonemiddleware answers 401 for every service, in Keystone's format.
    const formatted =
      apiError.status === 401 ? keystoneErrorBody(401, apiError.message) : errorBodyFor(def.name, apiError.status, apiError.message, req.headers);
    return { status: apiError.status, text: formatted.text, headers: { 'Content-Type': formatted.contentType, ...apiError.headers } };
  }

  private writeReply(res: ServerResponse, reply: Reply, base: Headers): void {
    const headers = new Headers().merge(base.toObject()).merge(reply.headers);
    if (reply.body !== undefined) {
      this.write(res, reply.status, headers, { contentType: 'application/json', text: JSON.stringify(reply.body) });
    } else if (reply.text !== undefined) {
      this.write(res, reply.status, headers, { contentType: 'text/plain; charset=UTF-8', text: reply.text });
    } else {
      this.write(res, reply.status, headers, undefined);
    }
  }

  private write(res: ServerResponse, status: number, headers: Headers, body: ErrorBody | undefined): void {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    const payload = status === 204 || status === 304 || body === undefined ? '' : body.text;
    if (payload !== '' && body && !headers.has('Content-Type')) headers.set('Content-Type', body.contentType);
    headers.set('Content-Length', String(Buffer.byteLength(payload)));
    res.writeHead(status, headers.toObject());
    res.end(payload);
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
