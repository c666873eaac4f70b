import type { z } from 'zod';
import { InputValidationError } from './errors.js';

/**
 * Validates a caller's input before any request is sent, so a bad argument never reaches a service.
 *
 * @throws {InputValidationError} listing every issue as `path: message`.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InputValidationError(
    what,
    result.error.issues.map((i) => `${i.path.map(String).join('.') || '(input)'}: ${i.message}`),
  );
}
