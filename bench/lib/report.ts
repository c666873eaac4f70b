/** What each benchmark part hands back to bench/run.ts. */

export interface Target {
  /** What is promised, e.g. "dataswap within 1.25x of bare http (sequential)". */
  name: string;
  met: boolean;
  /** The figure measured, e.g. "4.10x". */
  measured: string;
  /** Why it was missed, measured; empty when met. */
  why?: string;
}

export interface PartReport {
  id: string;
  title: string;
  /** Markdown: the tables and the notes that explain them. */
  body: string;
  targets: Target[];
  /** Raw measurements, written to bench/results/. */
  raw: unknown;
}

export interface PartOptions {
  log: (line: string) => void;
  verbose: boolean;
  quick: boolean;
}
