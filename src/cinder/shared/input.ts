import type { z } from 'zod';
import { parseInput as parse } from '../../core/input.js';

/** {@link parse} with Cinder's argument order (what, then the input). */
export function parseInput<S extends z.ZodType>(schema: S, what: string, input: unknown): z.infer<S> {
  return parse(schema, input, what);
}
