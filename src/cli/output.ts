/**
 * Printing: a command's result as one JSON document (`--json`) or as lines and tables for people;
 * errors as `dataswap: <message>` on stderr, or as `{"error": …}` on stdout with `--json`.
 * Secrets never reach either unless the command says it reveals one on purpose.
 */
import { isDataswapError } from '../core/errors.js';
import type { CommandResult } from './command.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

/** Keys whose values are never printed (a credential's `secret`, anything password- or token-like). */
const SECRET_KEY = /^(secret|password|token|credentialKey)$/i;

/** A deep copy without secret-named fields. */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = withoutSecrets(v, depth + 1);
  }
  return out;
}

export function printResult(io: CliIo, json: boolean, result: CommandResult): void {
  if (json) {
    const data = result.revealsSecret ? result.data : withoutSecrets(result.data);
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  if (result.text) io.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
}

export function printError(io: CliIo, json: boolean, err: unknown, exitCode: number, debug: boolean): void {
  const message = messageOf(err);
  const code = isDataswapError(err) ? err.code : 'INTERNAL';
  const hint = err instanceof UsageError && err.hint ? `run '${err.hint}' for usage` : undefined;
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ error: { code, message, exitCode, ...(hint ? { hint } : {}) } }, null, 2)}\n`,
    );
  } else {
    io.stderr.write(`dataswap: ${message}\n`);
    if (hint) io.stderr.write(`${hint}\n`);
  }
  const stack = (err as { stack?: unknown } | null)?.stack;
  if (debug && typeof stack === 'string') io.stderr.write(`${stack}\n`);
}

/** An error's message; duck-typed, since errors from Node's internals may come from another realm under test runners. */
export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/** `label  value` lines, labels padded to one column. Undefined values are left out. */
export function fields(pairs: ReadonlyArray<readonly [string, string | number | undefined]>): string {
  const shown = pairs.filter((p): p is readonly [string, string | number] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** A table with a header row; `empty` is printed when there are no rows. */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | undefined>>,
  empty: string,
): string {
  if (rows.length === 0) return empty;
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
