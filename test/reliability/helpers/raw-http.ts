/** HTTP at the byte level, to send what a normal client refuses to (CR/LF in headers, odd paths). */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Status lines found in everything the server sent (more than one means a smuggled request was answered). */
  statusLines: number;
  body: string;
  json: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

/** Sends `bytes` to `url`'s host and port, reads until the server closes; rejects after `timeoutMs` (a hang). */
export function rawExchange(url: string, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Written, not ended: a half-closed socket makes Node's server drop a response still being prepared.
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? NaN);
      const rest = end < 0 ? '' : text.slice(end + 4);
      const body = Number.isFinite(length) ? rest.slice(0, length) : rest;
      let json: RawResponse['json'] = {};
      try {
        json = JSON.parse(body) as RawResponse['json'];
      } catch {
        json = {};
      }
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
        headers,
        statusLines: (text.match(/HTTP\/1\.[01] \d{3} /g) ?? []).length,
        body,
        json,
      });
    });
  });
}

/** A request as bytes: `Connection: close`, a content length for the body; header values sent as given. */
export function rawRequest(
  method: string,
  path: string,
  headers: Array<[string, string]>,
  body: string | Buffer = '',
): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (b.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') lines.push(`content-length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]);
}
