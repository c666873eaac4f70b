import type { IncomingHttpHeaders } from 'node:http';

/** A formatted error body and its content type. */
export interface ErrorBody {
  contentType: string;
  text: string;
}

/** The services the emulator serves. */
export type ServiceName = 'keystone' | 'nova' | 'cinder' | 'glance';

/**
 * Nova's and Cinder's fault names by status (`nova/api/openstack/wsgi.py` and
 * `cinder/api/openstack/wsgi.py`, `Fault._fault_names`); anything else is `computeFault`.
 */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** HTTP reason phrases, as webob and Keystone title their errors. */
export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `{"itemNotFound": {"code": 404, "message": "…"}}`. */
export function faultBody(status: number, message: string): ErrorBody {
  const name = FAULT_NAMES[status] ?? 'computeFault';
  return { contentType: 'application/json', text: JSON.stringify({ [name]: { code: status, message } }) };
}

/** `{"error": {"code": 401, "title": "Unauthorized", "message": "…"}}` (Keystone and keystonemiddleware). */
export function keystoneErrorBody(status: number, message: string): ErrorBody {
  return {
    contentType: 'application/json',
    text: JSON.stringify({ error: { code: status, title: REASONS[status] ?? 'Error', message } }),
  };
}

/**
 * Glance answers with webob's HTTP exceptions, whose body depends on `Accept`
 * (`WSGIHTTPException.generate_response`): `text/html` or no preference gets an HTML page,
 * `application/json` gets `{"message", "code": "404 Not Found", "title"}`, anything else plain text
 * `404 Not Found\n\n<message>\n\n   `. The message keeps webob's `<br /><br />` in JSON.
 */
export function glanceErrorBody(status: number, message: string, headers: IncomingHttpHeaders): ErrorBody {
  const title = REASONS[status] ?? 'Error';
  const statusLine = `${status} ${title}`;
  const raw = `${message}<br /><br />\n\n\n`;
  const choice = negotiate(headers.accept);
  if (choice === 'json') {
    return { contentType: 'application/json', text: JSON.stringify({ message: raw, code: statusLine, title }) };
  }
  if (choice === 'html') {
    const body = `${escapeHtml(message)}<br /><br />\n\n\n`;
    return {
      contentType: 'text/html; charset=UTF-8',
      text: `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${body}\n </body>\n</html>`,
    };
  }
  const plain = raw.replace(/\n/g, ' ').replace(/<br \/>/g, '\n');
  return { contentType: 'text/plain; charset=UTF-8', text: `${statusLine}\n\n${plain}` };
}

/** The best of text/html and application/json for an Accept header, as webob picks it; undefined: neither. */
function negotiate(accept: string | undefined): 'html' | 'json' | undefined {
  if (accept === undefined || accept.trim() === '') return 'html';
  // Highest q wins; at equal q a more specific range wins (exact type over `type/*` over `*/*`).
  let best: { kind: 'html' | 'json'; q: number; specificity: number } | undefined;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const candidates: [('html' | 'json'), number][] =
      range === '*/*'
        ? [['html', 1], ['json', 1]]
        : range === 'text/*'
          ? [['html', 2]]
          : range === 'text/html'
            ? [['html', 3]]
            : range === 'application/*'
              ? [['json', 2]]
              : range === 'application/json'
                ? [['json', 3]]
                : [];
    for (const [kind, specificity] of candidates) {
      if (!best || q > best.q || (q === best.q && specificity > best.specificity)) best = { kind, q, specificity };
    }
  }
  return best?.kind;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The error body of `service` for `status` and `message`. */
export function errorBodyFor(service: ServiceName, status: number, message: string, headers: IncomingHttpHeaders): ErrorBody {
  switch (service) {
    case 'keystone':
      return keystoneErrorBody(status, message);
    case 'glance':
      return glanceErrorBody(status, message, headers);
    default:
      return faultBody(status, message);
  }
}
