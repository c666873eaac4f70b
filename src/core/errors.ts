/**
 * One error hierarchy for the whole library. Every error carries a stable `code` that callers can
 * switch on; HTTP errors carry what an operator needs to find the request in the service's logs.
 */

/** Base class of every error the library throws. */
export class DataswapError extends Error {
  /** A stable, machine-readable code, e.g. `NOT_FOUND` or `WAIT_TIMEOUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** A user-supplied option, config file or argument is invalid. */
export class ConfigError extends DataswapError {
  /** Where the bad value was read from (a file path, `env`, `options`). */
  readonly source: string | undefined;
  constructor(message: string, options?: { source?: string; cause?: unknown }) {
    super('CONFIG_INVALID', options?.source ? `${message} (from ${options.source})` : message, options);
    this.source = options?.source;
  }
}

/** An input to a library call failed validation before any request was sent. */
export class InputValidationError extends DataswapError {
  readonly issues: readonly string[];
  constructor(what: string, issues: readonly string[]) {
    super('INPUT_INVALID', `invalid ${what}: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** Facts about one HTTP exchange, safe to log: the URL has no secrets. */
export interface RequestContext {
  service: string;
  method: string;
  url: string;
  requestId?: string | undefined;
}

/** A service answered with an HTTP error status. */
export class OpenStackError extends DataswapError {
  readonly status: number;
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly requestId: string | undefined;
  /** The fault name of a Nova/Cinder error body (`itemNotFound`, `badRequest`…), if any. */
  readonly fault: string | undefined;
  /** The fault message parsed from the body, if any. */
  readonly faultMessage: string | undefined;
  /** Seconds the service asked us to wait (`Retry-After`), if any. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    ctx: RequestContext & {
      status: number;
      fault?: string | undefined;
      faultMessage?: string | undefined;
      retryAfterSeconds?: number | undefined;
    },
    code = codeForStatus(ctx.status),
  ) {
    const detail = ctx.faultMessage ? `: ${ctx.faultMessage}` : '';
    const rid = ctx.requestId ? ` [request ${ctx.requestId}]` : '';
    super(code, `${ctx.service} ${ctx.method} ${ctx.url} failed with HTTP ${ctx.status}${detail}${rid}`);
    this.status = ctx.status;
    this.service = ctx.service;
    this.method = ctx.method;
    this.url = ctx.url;
    this.requestId = ctx.requestId;
    this.fault = ctx.fault;
    this.faultMessage = ctx.faultMessage;
    this.retryAfterSeconds = ctx.retryAfterSeconds;
  }
}

export class BadRequestError extends OpenStackError {}
export class UnauthorizedError extends OpenStackError {}
export class ForbiddenError extends OpenStackError {}
export class NotFoundError extends OpenStackError {}
export class ConflictError extends OpenStackError {}
/** 413 or 429: a quota or rate limit. */
export class OverLimitError extends OpenStackError {}
/** 5xx from the service. */
export class ServerError extends OpenStackError {}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
    case 429:
      return 'OVER_LIMIT';
    default:
      return status >= 500 ? 'SERVER_ERROR' : 'HTTP_ERROR';
  }
}

/** Builds the subclass that matches the status. */
export function openStackErrorFor(
  ctx: RequestContext & {
    status: number;
    fault?: string | undefined;
    faultMessage?: string | undefined;
    retryAfterSeconds?: number | undefined;
  },
): OpenStackError {
  switch (ctx.status) {
    case 400:
      return new BadRequestError(ctx);
    case 401:
      return new UnauthorizedError(ctx);
    case 403:
      return new ForbiddenError(ctx);
    case 404:
      return new NotFoundError(ctx);
    case 409:
      return new ConflictError(ctx);
    case 413:
    case 429:
      return new OverLimitError(ctx);
    default:
      return ctx.status >= 500 ? new ServerError(ctx) : new OpenStackError(ctx);
  }
}

/** A response body did not match the schema the library relies on. */
export class ResponseValidationError extends DataswapError {
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly requestId: string | undefined;
  /** Each issue as `path: message`, e.g. `volume.status: expected string`. */
  readonly issues: readonly string[];
  constructor(ctx: RequestContext, issues: readonly string[], options?: { cause?: unknown }) {
    const rid = ctx.requestId ? ` [request ${ctx.requestId}]` : '';
    super(
      'RESPONSE_INVALID',
      `${ctx.service} ${ctx.method} ${ctx.url} returned an unexpected body: ${issues.slice(0, 5).join('; ')}${rid}`,
      options,
    );
    this.service = ctx.service;
    this.method = ctx.method;
    this.url = ctx.url;
    this.requestId = ctx.requestId;
    this.issues = issues;
  }
}

/** The request never got an HTTP answer: connection refused or reset, DNS, TLS. */
export class ConnectionError extends DataswapError {
  readonly service: string;
  readonly method: string;
  readonly url: string;
  constructor(ctx: RequestContext, reason: string, options?: { cause?: unknown }) {
    super('CONNECTION_FAILED', `${ctx.service} ${ctx.method} ${ctx.url}: ${reason}`, options);
    this.service = ctx.service;
    this.method = ctx.method;
    this.url = ctx.url;
  }
}

/** The request did not complete within its per-request timeout. */
export class RequestTimeoutError extends DataswapError {
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly timeoutMs: number;
  constructor(ctx: RequestContext, timeoutMs: number, options?: { cause?: unknown }) {
    super('REQUEST_TIMEOUT', `${ctx.service} ${ctx.method} ${ctx.url} timed out after ${timeoutMs} ms`, options);
    this.service = ctx.service;
    this.method = ctx.method;
    this.url = ctx.url;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortedError extends DataswapError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('ABORTED', `${what} was aborted`, options);
  }
}

/** A waiter ran out of time; names the last status it saw. */
export class WaitTimeoutError extends DataswapError {
  readonly resource: string;
  readonly lastStatus: string | undefined;
  readonly timeoutMs: number;
  constructor(resource: string, timeoutMs: number, lastStatus: string | undefined) {
    super(
      'WAIT_TIMEOUT',
      `timed out after ${timeoutMs} ms waiting for ${resource} (last status: ${lastStatus ?? 'none seen'})`,
    );
    this.resource = resource;
    this.lastStatus = lastStatus;
    this.timeoutMs = timeoutMs;
  }
}

/** A resource reached a failure state (`ERROR`, `error`, `killed`…) while we waited on it. */
export class ResourceFailedError extends DataswapError {
  readonly resource: string;
  readonly status: string;
  readonly fault: string | undefined;
  constructor(resource: string, status: string, fault?: string) {
    super('RESOURCE_FAILED', `${resource} went to ${status}${fault ? `: ${fault}` : ''}`);
    this.resource = resource;
    this.status = status;
    this.fault = fault;
  }
}

/** The catalog has no endpoint for the service, region and interface asked for. */
export class EndpointNotFoundError extends DataswapError {
  constructor(message: string) {
    super('ENDPOINT_NOT_FOUND', message);
  }
}

/** A call needs a microversion the server does not offer. */
export class MicroversionError extends DataswapError {
  readonly service: string;
  readonly required: string;
  readonly available: string;
  constructor(service: string, feature: string, required: string, available: string) {
    super(
      'MICROVERSION_UNSUPPORTED',
      `${feature} needs ${service} microversion ${required} or newer; this session negotiated ${available}`,
    );
    this.service = service;
    this.required = required;
    this.available = available;
  }
}

/** The cloud does not offer a feature the call needs (e.g. no Cinder backup service). */
export class NotSupportedError extends DataswapError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

export const isDataswapError = (e: unknown): e is DataswapError => e instanceof DataswapError;
export const isOpenStackError = (e: unknown): e is OpenStackError => e instanceof OpenStackError;
export const isNotFound = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
export const isConflict = (e: unknown): e is ConflictError => e instanceof ConflictError;
export const isUnauthorized = (e: unknown): e is UnauthorizedError => e instanceof UnauthorizedError;
