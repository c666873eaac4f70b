/**
 * The logger the library writes to: the subset of pino's interface we use, so a pino (or any
 * compatible) logger can be passed straight in. Silent unless the caller injects one.
 */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => {};

/** A logger that drops everything; the default. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
