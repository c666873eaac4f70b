/** Plain-text tables that are also Markdown tables, so the console output pastes into the README. */

export type Cell = string | number | undefined;

/** Formats rows under a header as a Markdown table with padded columns. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = rows.map((r) => header.map((_, i) => cell(r[i])));
  const widths = header.map((h, i) => Math.max(h.length, 3, ...text.map((r) => r[i]?.length ?? 0)));
  const right = header.map((_, i) =>
    text.every((r) => /^[-+]?[\d.,]+( ?[x%]| ms| s| MiB)?$|^[-—]$|^$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...text.map(line)].join('\n');
}

function cell(c: Cell): string {
  if (c === undefined) return '—';
  return typeof c === 'number' ? String(c) : c;
}

/** `1234.5` → `1,235`; `digits` decimals. */
export function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as `1.23x`. */
export function ratio(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(digits)}x`;
}

/** Milliseconds as `1.23 s` or `456 ms`. */
export function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}

/** Pass/miss mark for a target. */
export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
