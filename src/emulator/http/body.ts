import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from '../errors.js';

/** Largest JSON body accepted; image data goes through the streaming upload route instead. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Reads and parses a JSON request body. An empty body is `undefined`.
 *
 * @throws {ApiError} 400 with `malformedMessage` for a body that is not JSON, 413 for one too large.
 */
export async function readJsonBody(req: IncomingMessage, malformedMessage: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Keep reading (and dropping) so the connection stays usable for the error answer.
    if (size > MAX_JSON_BYTES) tooLarge = true;
    else chunks.push(buf);
  }
  if (tooLarge) throw new ApiError(413, 'Request is too large.');
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw badRequest(malformedMessage);
  }
}
