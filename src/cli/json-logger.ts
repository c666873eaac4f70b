/**
 * Structured logs for the daemons (`serve`, `agent`): one JSON object per line on stdout, for
 * journald or any log shipper. Fields named like secrets are masked and error objects are reduced
 * to name, code and message, so a credential can reach a log line neither by accident nor by an
 * error's attached request.
 */
import type { Logger } from '../core/logger.js';
import { redactText } from '../core/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const SECRET_FIELD = /secret|password|passwd|token|authorization|credential[-_]?key|signature|^sig$|^key$/i;

function clean(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: redactText(value.message),
    };
  }
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '***' : clean(v, depth + 1);
  return out;
}

export interface JsonLoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Fields on every line (e.g. the guest id). */
  base?: Record<string, unknown>;
  now?: () => Date;
}

/** A {@link Logger} writing one JSON line per call through `write`. */
export function createJsonLogger(write: (line: string) => void, options: JsonLoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? 'info');
  const now = options.now ?? (() => new Date());
  const base = options.base ?? {};
  const emit =
    (level: LogLevel) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const fields = clean(obj, 0) as Record<string, unknown>;
      const line = {
        time: now().toISOString(),
        level,
        msg: msg === undefined ? '' : redactText(msg),
        ...base,
        ...fields,
      };
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch {
        text = JSON.stringify({
          time: line.time,
          level,
          msg: line.msg,
          ...base,
          note: 'fields could not be serialised',
        });
      }
      write(`${text}\n`);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
