/**
 * A small cron-expression parser for the backup schedule: five fields (minute hour day-of-month month
 * day-of-week) with `*`, lists, ranges and steps, read in UTC. As in Vixie cron, when both day fields
 * are restricted a day matches if either does; day-of-week 7 is Sunday like 0. No names (`MON`, `JAN`).
 */
import { ConfigError } from '../core/errors.js';

/** A parsed schedule. */
export interface CronSchedule {
  expression: string;
  minutes: readonly number[];
  hours: readonly number[];
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number>;
  /** True when the field was not `*`-based; decides the either/both rule of the two day fields. */
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

/** Daily at 03:00 UTC. */
export const DEFAULT_BACKUP_SCHEDULE = '0 3 * * *';

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
] as const;

const MINUTE = 60_000;
/** Far enough to reach every date a schedule can name (29 February may be 8 years away around 2100). */
const SEARCH_LIMIT_MS = 9 * 366 * 24 * 60 * MINUTE;

/**
 * Parses a five-field cron expression.
 * @throws {ConfigError} naming the field and the part that is wrong, or when the schedule never fires.
 * @example parseCron('*\/15 2-4 * * 1-5') // every 15 min from 02:00 to 04:45 UTC, Monday to Friday
 */
export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new ConfigError(
      `cron expression "${expression}" needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = FIELDS.map((field, i) =>
    parseField(expression, fields[i] ?? '', field),
  ) as [number[], number[], number[], number[], number[]];
  const schedule: CronSchedule = {
    expression,
    minutes,
    hours,
    daysOfMonth: new Set(daysOfMonth),
    months: new Set(months),
    daysOfWeek: new Set(daysOfWeek.map((d) => d % 7)),
    dayOfMonthRestricted: !fields[2]?.startsWith('*'),
    dayOfWeekRestricted: !fields[4]?.startsWith('*'),
  };
  nextFireTime(schedule, 0);
  return schedule;
}

function parseField(expression: string, text: string, field: (typeof FIELDS)[number]): number[] {
  const fail = (why: string) =>
    new ConfigError(`cron expression "${expression}": ${field.name} field "${text}" ${why}`);
  const number = (part: string) => {
    if (!/^\d+$/.test(part)) throw fail(`has "${part}", not a number`);
    const value = Number(part);
    if (value < field.min || value > field.max) throw fail(`has ${value}, outside ${field.min}-${field.max}`);
    return value;
  };
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined) throw fail(`has more than one "/" in "${part}"`);
    const step = stepText === undefined ? 1 : number(stepText);
    if (step < 1) throw fail('has a step of 0');
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [field.min, field.max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [from, to] = [number(a), number(b)];
      if (from > to) throw fail(`has the backwards range ${range}`);
    } else {
      from = number(range);
      // `5/10` means from 5 to the end in steps of 10, as in Vixie cron.
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const dom = schedule.daysOfMonth.has(date.getUTCDate());
  const dow = schedule.daysOfWeek.has(date.getUTCDay());
  if (schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The first time strictly after `after` (ms since the epoch) at which the schedule fires, in UTC.
 * @throws {ConfigError} when it never fires (e.g. `0 0 30 2 *`).
 */
export function nextFireTime(schedule: CronSchedule, after: number): number {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  while (t <= after + SEARCH_LIMIT_MS) {
    const d = new Date(t);
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
    if (!schedule.months.has(mo + 1)) {
      t = Date.UTC(y, mo + 1, 1);
      continue;
    }
    if (!dayMatches(schedule, d)) {
      t = Date.UTC(y, mo, day + 1);
      continue;
    }
    const hour = schedule.hours.find((x) => x >= h);
    if (hour === undefined) {
      t = Date.UTC(y, mo, day + 1);
      continue;
    }
    if (hour !== h) {
      t = Date.UTC(y, mo, day, hour);
      continue;
    }
    const minute = schedule.minutes.find((x) => x >= d.getUTCMinutes());
    if (minute === undefined) {
      t = Date.UTC(y, mo, day, h + 1);
      continue;
    }
    return Date.UTC(y, mo, day, h, minute);
  }
  throw new ConfigError(`cron expression "${schedule.expression}" never fires`);
}
