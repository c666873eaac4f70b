import type { z } from 'zod';
import { InputValidationError } from '../../core/errors.js';

/**
 * Validates a caller's input before any request is sent and returns the parsed value.
 *
 * @throws {InputValidationError} listing each issue as `path: message`.
 */
export function parseInput<S extends z.ZodType>(schema: S, what: string, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InputValidationError(
    what,
    result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`),
  );
}
