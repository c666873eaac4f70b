/**
 * An error a handler throws to answer with an HTTP error. The service that owns the route turns it
 * into its own body format (Nova/Cinder fault, Keystone `error`, Glance webob text), so handlers
 * only state the status and the message the real service would give.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400. */
export const badRequest = (message: string): ApiError => new ApiError(400, message);
/** 403. */
export const forbidden = (message: string): ApiError => new ApiError(403, message);
/** 404. */
export const notFound = (message = 'The resource could not be found.'): ApiError => new ApiError(404, message);
/** 409. */
export const conflict = (message: string): ApiError => new ApiError(409, message);

/** The message every service behind keystonemiddleware gives for a missing or bad token. */
export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

/** 401 as keystonemiddleware (or Keystone itself) sends it. */
export const unauthorized = (message = UNAUTHORIZED_MESSAGE): ApiError => new ApiError(401, message);
