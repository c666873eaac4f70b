import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Microversion } from '../microversion.js';
import type { TokenRecord } from '../state.js';
import type { World } from '../world.js';

/** Who is calling: from the token of an authenticated request. */
export interface AuthInfo {
  token: TokenRecord;
  projectId: string;
  userId: string;
}

/** One request as a handler sees it. */
export interface RequestContext {
  readonly method: string;
  /** The path, without query string or trailing slash. */
  readonly path: string;
  /** Decoded path parameters (`:id` segments). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly requestId: string;
  /** The raw request: only streaming handlers (image upload) read it. */
  readonly req: IncomingMessage;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** The negotiated microversion (Nova and Cinder). */
  readonly microversion: Microversion | undefined;
}

/** A request that carried a valid project-scoped token. */
export interface AuthedContext extends RequestContext {
  readonly auth: AuthInfo;
}

/** What a handler answers. */
export interface Reply {
  status: number;
  /** A JSON body. */
  body?: unknown;
  /** A raw text body (sent as is). */
  text?: string;
  headers?: Record<string, string>;
}

/** A handler of a route that needs no token (version documents, token creation). */
export type PublicHandler = (ctx: RequestContext, world: World) => Reply | Promise<Reply>;
/** A handler of an authenticated route. */
export type AuthedHandler = (ctx: AuthedContext, world: World) => Reply | Promise<Reply>;

interface RouteBase {
  method: string;
  /** `/compute/v2.1/servers/:id`: literal segments and `:name` parameters. */
  pattern: string;
  /** The operation name used by stats and faults, e.g. `nova.attach`. */
  operation: string;
  /** The handler reads the request stream itself (no JSON parsing). */
  rawBody?: boolean;
  /** A finer operation name from the body, e.g. `nova.server.reboot` for a server action. */
  operationOf?: (body: unknown) => string | undefined;
}

/** One route of a service. */
export type Route = RouteBase & ({ public: true; handler: PublicHandler } | { public?: false; handler: AuthedHandler });

/** A reply with a JSON body. */
export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, body, headers } : { status, body };
}

/** A reply without a body. */
export function empty(status: number, headers?: Record<string, string>): Reply {
  return headers ? { status, headers } : { status };
}

/**
 * `<prefix>.<action>` for an action body with one key (`{"reboot": {…}}` → `nova.server.reboot`),
 * so faults and stats can tell actions apart.
 */
export function actionName(prefix: string, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  return keys.length === 1 ? `${prefix}.${keys[0]}` : undefined;
}
