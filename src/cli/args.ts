/**
 * Command-line parsing on `node:util`'s `parseArgs` (strict: an unknown option is an error), with
 * typed accessors that turn a bad value into a {@link UsageError} naming the option.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GUEST_ID_PATTERN } from '../management/labels.js';
import type { DataSource } from '../management/data-volumes.js';
import type { Command } from './command.js';
import { UsageError } from './errors.js';

/** The parsed command line of one command. */
export class Args {
  constructor(
    private readonly values: Readonly<Record<string, string | boolean | undefined>>,
    readonly positionals: readonly string[],
    /** e.g. `dataswap guest create --help`, for error hints. */
    readonly helpHint: string,
  ) {}

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    if (typeof v !== 'string') return undefined;
    if (v === '') throw this.usage(`--${name} needs a value`);
    return v;
  }

  /** An integer option in `[min, max]`. */
  int(name: string, min: number, max: number): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw this.usage(`--${name} must be a whole number, not "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw this.usage(`--${name} must be between ${min} and ${max}, not ${n}`);
    return n;
  }

  /** The positional `index` (present: the count was checked when parsing). */
  positional(index: number): string {
    const v = this.positionals[index];
    if (v === undefined) throw this.usage(`missing argument ${index + 1}`);
    return v;
  }

  /** A guest id positional, checked against the guest id pattern. */
  guestId(index = 0): string {
    const id = this.positional(index);
    if (!GUEST_ID_PATTERN.test(id)) {
      throw this.usage(
        `invalid guest id "${id}": 1–40 lowercase letters, digits and "-", starting and ending with a letter or digit`,
      );
    }
    return id;
  }

  usage(message: string): UsageError {
    return new UsageError(message, this.helpHint);
  }
}

/** True when `-h`/`--help` appears before a `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/**
 * Parses `argv` for `command`.
 * @throws {UsageError} for an unknown option, a missing option value, or the wrong number of arguments.
 */
export function parseCommandArgs(command: Command, argv: readonly string[], helpHint: string): Args {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    // Not `instanceof Error`: parseArgs' errors may come from another realm (a VM context under test runners).
    const text = (err as { message?: unknown } | null)?.message;
    const message = (typeof text === 'string' ? text : String(err)).split('\n')[0]!;
    throw new UsageError(tidy(message), helpHint);
  }
  const want = command.positionals.length;
  const got = parsed.positionals.length;
  if (got < want) {
    const missing = command.positionals.slice(got).map((p) => `<${p.name}>`);
    throw new UsageError(`missing ${missing.join(' ')}`, helpHint);
  }
  if (got > want) throw new UsageError(`unexpected argument "${parsed.positionals[want]!}"`, helpHint);
  return new Args(parsed.values, parsed.positionals, helpHint);
}

/** parseArgs' messages mention its own API (`allowPositionals`, `strict:false`): keep the useful part. */
function tidy(message: string): string {
  return message
    .replace(/\. To specify a positional argument starting with a '-'.*$/, '')
    .replace(/^Unknown option '([^']+)'.*$/, 'unknown option $1')
    .replace(/^Option '(-[^' ]+)(?: <value>)?' argument missing$/, 'option $1 needs a value')
    .replace(/^Option '([^']+)' does not take an argument$/, 'option $1 takes no value');
}

/**
 * A data source as written on the command line: `startup`, `latest`, `generation:N` (that backup
 * generation) or `previous:N` (N generations before the latest).
 */
export function parseDataSource(text: string, option: string, args: Args): DataSource {
  if (text === 'startup' || text === 'latest') return text;
  const m = /^(generation|previous):(\d{1,7})$/.exec(text);
  if (m && Number(m[2]) >= 1) {
    return m[1] === 'generation' ? { generation: Number(m[2]) } : { previous: Number(m[2]) };
  }
  throw args.usage(`--${option} must be startup, latest, generation:N or previous:N (N ≥ 1), not "${text}"`);
}
