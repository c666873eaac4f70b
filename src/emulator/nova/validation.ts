import { badRequest, type ApiError } from '../errors.js';
import { pyRepr } from '../validate.js';

/** Nova's jsonschema error: `Invalid input for field/attribute <f>. Value: <v>. <why>`. */
export function schemaError(field: string, value: unknown, why: string): ApiError {
  return badRequest(`Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. ${why}`);
}

/** `Additional properties are not allowed ('x' was unexpected)`. */
export function additionalProperties(field: string, value: unknown, extra: readonly string[]): ApiError {
  return schemaError(field, value, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
}

/**
 * A Nova name (`parameter_types.name`): 1–255 printable characters, no leading or trailing
 * whitespace.
 */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw schemaError(field, value, `${pyRepr(value)} is not of type 'string'`);
  if (value.length < 1 || value.length > 255 || value.trim() !== value) {
    throw schemaError(field, value, `${pyRepr(value)} does not match '^(?! )[[:print:]]{1,255}(?<! )$'`);
  }
  return value;
}

/** A server or device tag (`parameter_types.tag`): 1–60 characters without `,` or `/`. */
export function checkTag(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 60 || /[,/]/.test(value)) {
    throw schemaError(field, value, `${pyRepr(value)} does not match '^[^,/]*$'`);
  }
  return value;
}

/** Nova metadata (`parameter_types.metadata`): string keys 1–255, string values ≤ 255. */
export function checkNovaMetadata(field: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw schemaError(field, value, `${pyRepr(value)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k.length < 1 || k.length > 255) throw schemaError(field, value, `${pyRepr(k)} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'`);
    if (typeof v !== 'string' || v.length > 255) throw schemaError(field, value, `${pyRepr(v)} is not of type 'string'`);
    out[k] = v;
  }
  return out;
}
