/**
 * Redaction applied before anything is stored in an error, a log line or a fixture. Tokens and
 * secrets must never leave the process through our own messages.
 */

const SECRET_HEADERS = new Set([
  'x-auth-token',
  'x-subject-token',
  'x-service-token',
  'authorization',
  'cookie',
  'set-cookie',
  'proxy-authorization',
]);

const SECRET_QUERY = /^(token|password|secret|key|signature|sig|temp_url_sig|access_token)$/i;

/** JSON keys whose string values are secrets (`"password": "…"` becomes `"password": "***"`). */
const SECRET_JSON_KEY = /"(password|secret|token|id_token|access_token|credential)"\s*:\s*"(?:[^"\\]|\\.)*"/gi;

export const REDACTED = '***';

/** Copy of the headers with the credential-bearing ones replaced by `***`. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The URL with user info dropped and secret-looking query values replaced. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY.test(key)) parsed.searchParams.set(key, REDACTED);
  }
  return parsed.toString();
}

/** Replaces secret values inside a JSON (or JSON-like) text. */
export function redactText(text: string): string {
  return text.replace(SECRET_JSON_KEY, (_m, key: string) => `"${key}": "${REDACTED}"`);
}

/**
 * A copy of an HTTP library's error with only its name, code and message. got's and axios's errors
 * carry the request options, token header included; they must not travel as a `cause`.
 */
export function bareError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const bare = new Error(redactText(err.message));
  bare.name = err.name;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') (bare as Error & { code?: string }).code = code;
  return bare;
}
