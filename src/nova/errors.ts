import { DataswapError } from '../core/errors.js';

/**
 * A lookup by name or client token found no match (`NO_MATCH`) or several (`AMBIGUOUS_MATCH`),
 * so the caller cannot know which resource was meant.
 */
export class MatchError extends DataswapError {
  /** What was looked for, e.g. `flavor named "m1.small"`. */
  readonly what: string;
  /** The ids of every match (empty for `NO_MATCH`). */
  readonly matches: readonly string[];

  constructor(what: string, matches: readonly string[]) {
    super(
      matches.length === 0 ? 'NO_MATCH' : 'AMBIGUOUS_MATCH',
      matches.length === 0 ? `no ${what}` : `${matches.length} matches for ${what}: ${matches.join(', ')}`,
    );
    this.what = what;
    this.matches = matches;
  }
}

/** Whether `e` is a {@link MatchError}. */
export const isMatchError = (e: unknown): e is MatchError => e instanceof MatchError;
