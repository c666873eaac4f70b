import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/core/errors.js';
import { DEFAULT_BACKUP_SCHEDULE, nextFireTime, parseCron } from '../../src/recovery/cron.js';

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) =>
  new Date(nextFireTime(parseCron(expression), at(after))).toISOString();

describe('parseCron', () => {
  it('parses `*`, lists, ranges and steps into sorted values', () => {
    const s = parseCron('5/20 1-10/3,23 */10 1,6-7 *');
    expect(s.minutes).toEqual([5, 25, 45]);
    expect(s.hours).toEqual([1, 4, 7, 10, 23]);
    expect([...s.daysOfMonth]).toEqual([1, 11, 21, 31]);
    expect([...s.months]).toEqual([1, 6, 7]);
    expect(s.daysOfWeek.size).toBe(7);
    // As in Vixie cron, a day field starting with `*` (even `*/10`) counts as unrestricted.
    expect(s).toMatchObject({ dayOfMonthRestricted: false, dayOfWeekRestricted: false });
    expect(parseCron('0 0 1-5 * 1')).toMatchObject({ dayOfMonthRestricted: true, dayOfWeekRestricted: true });
  });

  it('treats day-of-week 7 as Sunday', () => {
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect([...parseCron('0 0 * * 5-7').daysOfWeek].sort()).toEqual([0, 5, 6]);
  });

  it.each([
    ['* * * *', /needs 5 fields .* got 4/],
    ['* * * * * *', /got 6/],
    ['60 * * * *', /minute field "60" has 60, outside 0-59/],
    ['* 24 * * *', /hour field "24" has 24, outside 0-23/],
    ['* * 0 * *', /day-of-month field "0" has 0, outside 1-31/],
    ['* * * 13 *', /month field "13"/],
    ['* * * * 8', /day-of-week field "8"/],
    ['*/0 * * * *', /minute field "\*\/0" has a step of 0/],
    ['a * * * *', /minute field "a" has "a", not a number/],
    ['5-1 * * * *', /backwards range 5-1/],
    ['1/2/3 * * * *', /more than one "\/"/],
    ['1,,2 * * * *', /has "", not a number/],
    ['* * * JAN *', /month field "JAN"/],
    ['-1 * * * *', /has "", not a number/],
  ])('rejects %j naming the field', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(ConfigError);
    expect(() => parseCron(expression)).toThrow(message);
  });

  it('rejects a schedule that can never fire', () => {
    expect(() => parseCron('0 0 30 2 *')).toThrow('cron expression "0 0 30 2 *" never fires');
    expect(() => parseCron('0 0 31 4,6,9,11 *')).toThrow(/never fires/);
  });
});

describe('nextFireTime (UTC)', () => {
  it('defaults to daily at 03:00', () => {
    expect(DEFAULT_BACKUP_SCHEDULE).toBe('0 3 * * *');
    expect(next('0 3 * * *', '2024-01-01T02:59:30Z')).toBe('2024-01-01T03:00:00.000Z');
  });

  it('is strictly after the given time', () => {
    expect(next('0 3 * * *', '2024-01-01T03:00:00Z')).toBe('2024-01-02T03:00:00.000Z');
    expect(next('* * * * *', '2024-01-01T03:00:00Z')).toBe('2024-01-01T03:01:00.000Z');
  });

  it('steps within the hour and rolls over hours and days', () => {
    expect(next('*/15 * * * *', '2024-01-01T10:07:00Z')).toBe('2024-01-01T10:15:00.000Z');
    expect(next('*/15 * * * *', '2024-01-01T23:50:00Z')).toBe('2024-01-02T00:00:00.000Z');
    expect(next('30 9-17 * * *', '2024-01-01T17:31:00Z')).toBe('2024-01-02T09:30:00.000Z');
  });

  it('skips weekends for 1-5', () => {
    // 2024-01-05 is a Friday.
    expect(next('0 3 * * 1-5', '2024-01-05T04:00:00Z')).toBe('2024-01-08T03:00:00.000Z');
  });

  it('matches either day field when both are restricted (Vixie cron)', () => {
    // The 13th, or any Friday: from Monday 2024-01-08, Friday the 12th comes first, then the 13th.
    expect(next('0 0 13 * 5', '2024-01-08T00:00:00Z')).toBe('2024-01-12T00:00:00.000Z');
    expect(next('0 0 13 * 5', '2024-01-12T00:00:00Z')).toBe('2024-01-13T00:00:00.000Z');
  });

  it('crosses months, years and leap days', () => {
    expect(next('0 0 1 * *', '2024-01-31T12:00:00Z')).toBe('2024-02-01T00:00:00.000Z');
    expect(next('0 0 1 1 *', '2024-12-31T23:59:00Z')).toBe('2025-01-01T00:00:00.000Z');
    expect(next('0 12 29 2 *', '2023-03-01T00:00:00Z')).toBe('2024-02-29T12:00:00.000Z');
    expect(next('0 0 31 * *', '2024-04-01T00:00:00Z')).toBe('2024-05-31T00:00:00.000Z');
  });
});
