/**
 * The demo's printed walk: one `[n/total] what ... 123 ms` line per step, indented detail and
 * progress lines under it (the agent's ladder log, status changes of the cloud waits), in plain text.
 */
import type { Logger } from '../core/logger.js';
import type { WaitProgress } from '../core/waiter.js';

const INDENT = '      ';
const UUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/** Shortens every UUID in a line to its first 8 characters. */
export function shortenIds(line: string): string {
  return line.replace(UUID, '$1');
}

/** Prints the steps of the walk. */
export class Reporter {
  private n = 0;
  private readonly started = Date.now();

  constructor(
    private readonly out: (line: string) => void,
    readonly total: number,
  ) {}

  /** A line without a step. */
  line(text = ''): void {
    this.out(text);
  }

  /** A detail line under the current step. */
  detail(text: string): void {
    this.out(`${INDENT}${shortenIds(text)}`);
  }

  /**
   * Runs one step: `[n/total] what ...` when it starts, details while it runs, and
   * `[n/total] what ... 123 ms` when it ends (or `FAILED` when it throws).
   */
  async step<T>(what: string, run: () => Promise<T>): Promise<T> {
    const tag = `[${++this.n}/${this.total}]`;
    this.out(`${tag} ${what} ...`);
    const t0 = Date.now();
    try {
      const result = await run();
      this.out(`${tag} ${what} ... ${Date.now() - t0} ms`);
      return result;
    } catch (err) {
      this.out(`${tag} ${what} ... FAILED after ${Date.now() - t0} ms`);
      throw err;
    }
  }

  /** Milliseconds since the walk started. */
  elapsed(): number {
    return Date.now() - this.started;
  }

  /**
   * A waiter's progress: the first poll of each wait, then each status change (not every poll):
   * `… volume 1a2b3c4d: available (120 ms)`.
   */
  progress(): (p: WaitProgress) => void {
    const last = new Map<string, string | undefined>();
    return (p) => {
      // A wait's first poll is always shown; later polls only when the status changes.
      if (p.attempt > 1 && last.get(p.resource) === p.status) return;
      last.set(p.resource, p.status);
      this.detail(`… ${p.resource}: ${p.status ?? 'gone'} (${p.elapsedMs} ms)`);
    };
  }

  /**
   * A logger for a guest's recovery agent: the ladder's own log messages, condensed — an attempt
   * starting, failing, recovering; reboots observed; resumed effects; hand-overs.
   */
  agentLogger(guest: string): Logger {
    const say = (text: string) => this.detail(`${guest} │ ${text}`);
    const onMessage = (level: 'info' | 'warn' | 'error', msg: string, obj: Record<string, unknown>) => {
      const failed = /^(stage \d+ \([^)]+\)(?: attempt \d+\/\d+)?) failed: (.*)$/.exec(msg);
      if (failed) return say(`✗ ${failed[1]}: ${condense(failed[2] ?? '')}`);
      const started = /^(stage \d+ \([^)]+\)(?: attempt \d+\/\d+)?): (.*)$/.exec(msg);
      if (started) {
        const why = started[2] ?? '';
        return say(`▸ ${started[1]}${why.startsWith('fault detected') ? ` — ${condense(why)}` : ''}`);
      }
      if (msg.endsWith('recovered the guest')) return say(`✓ ${msg}`);
      if (msg === 'swapping the data volume')
        return say(`⇄ swapping the data volume in the running VM: ${String(obj.volumeId ?? '')}`);
      if (msg === 'backup taken' || (level === 'info' && msg.startsWith('previous data volume'))) return;
      say(`${level === 'info' ? '·' : level === 'warn' ? '!' : '✗'} ${condense(msg)}`);
    };
    return {
      debug: () => undefined,
      info: (obj, msg) => onMessage('info', msg ?? '', obj),
      warn: (obj, msg) => onMessage('warn', msg ?? '', obj),
      error: (obj, msg) => onMessage('error', msg ?? '', obj),
    };
  }
}

/** Drops the repetitive parts of the ladder's reasons. */
function condense(text: string): string {
  return text
    .replace(/fault detected: \d+ health probes failed in a row: /, 'fault detected: ')
    .replace(
      /not healthy within the health timeout \(last probe: (.*)\)$/,
      'still unhealthy at the end of the health window ($1)',
    )
    .replace(/cc-app health: exit code 1: /g, '');
}

/** A plain-text table: the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  if (!head) return [];
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}
