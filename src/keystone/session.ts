import { ResponseValidationError } from '../core/errors.js';
import type { AuthProvider, ServiceClient } from '../core/service-client.js';
import { tokenRequestBody, type AuthMethod } from './auth-methods.js';
import { tokenResponseSchema, type CatalogEntry, type TokenResponse } from './schemas.js';

/** A token and what came with it. */
export interface TokenInfo {
  value: string;
  expiresAt: Date;
  catalog: readonly CatalogEntry[];
  projectId: string | undefined;
  userId: string | undefined;
}

export interface SessionOptions {
  /** Re-authenticate this long before the token expires. Default 5 minutes. */
  refreshMarginMs?: number;
  now?: () => number;
}

/**
 * A Keystone v3 session: authenticates, caches the token, re-authenticates shortly before expiry
 * and after a 401. Concurrent callers share one authentication in flight (single-flight).
 */
export class KeystoneSession implements AuthProvider {
  readonly canReauthenticate = true;
  private current: TokenInfo | undefined;
  private inflight: Promise<TokenInfo> | undefined;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;
  /** How many times this session has authenticated (for metrics and tests). */
  authentications = 0;

  constructor(
    private readonly identity: ServiceClient,
    private readonly method: AuthMethod,
    opts: SessionOptions = {},
  ) {
    this.refreshMarginMs = opts.refreshMarginMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  async token(signal?: AbortSignal): Promise<string> {
    return (await this.tokenInfo(signal)).value;
  }

  /** The current token with its catalog, authenticating when needed. */
  async tokenInfo(signal?: AbortSignal): Promise<TokenInfo> {
    const cur = this.current;
    if (cur && cur.expiresAt.getTime() - this.refreshMarginMs > this.now()) return cur;
    this.inflight ??= this.authenticate(signal).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  invalidate(refused: string): void {
    if (this.current?.value === refused) this.current = undefined;
  }

  private async authenticate(signal?: AbortSignal): Promise<TokenInfo> {
    const res = await this.identity.request({
      method: 'POST',
      path: '/auth/tokens',
      json: tokenRequestBody(this.method),
      expect: [201],
      schema: tokenResponseSchema,
      // A token request creates nothing: safe to retry on a gateway error.
      idempotent: true,
      signal,
    });
    const value = res.headers['x-subject-token'];
    if (!value) {
      throw new ResponseValidationError(
        { service: 'identity', method: 'POST', url: this.identity.url('/auth/tokens'), requestId: res.requestId },
        ['X-Subject-Token header: missing'],
      );
    }
    this.authentications++;
    this.current = toTokenInfo(value, res.data);
    return this.current;
  }
}

function toTokenInfo(value: string, body: TokenResponse): TokenInfo {
  const t = body.token;
  return {
    value,
    expiresAt: new Date(t.expires_at),
    catalog: t.catalog ?? [],
    projectId: t.project?.id,
    userId: t.user?.id,
  };
}
