import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, badRequest } from './errors.js';

/** A microversion as `[major, minor]`. */
export type Microversion = readonly [number, number];

/** A service's announced range. */
export interface MicroversionRange {
  min: Microversion;
  max: Microversion;
}

/** Parses `2.93` (or `v2.93`); undefined when malformed. */
export function parseMicroversion(text: string): Microversion | undefined {
  const m = /^v?(\d+)\.(\d+)$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Parses a range of the options, throwing on a malformed value (a programming error). */
export function parseRange(input: { min: string; max: string }, what: string): MicroversionRange {
  const min = parseMicroversion(input.min);
  const max = parseMicroversion(input.max);
  if (!min || !max || compareMicroversions(min, max) > 0) throw new RangeError(`bad ${what} microversion range`);
  return { min, max };
}

/** `2.93`. */
export function formatMicroversion(v: Microversion): string {
  return `${v[0]}.${v[1]}`;
}

/** Negative, zero or positive, like a sort comparator. */
export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Whether `v` is at least `version` (e.g. `'2.89'`). */
export function atLeast(v: Microversion | undefined, version: string): boolean {
  const want = parseMicroversion(version);
  return v !== undefined && want !== undefined && compareMicroversions(v, want) >= 0;
}

/**
 * The version a request asks for: `OpenStack-API-Version: <service> X.Y` (one entry of a
 * comma-separated list), for compute also the legacy `X-OpenStack-Nova-API-Version`, `latest` for
 * the maximum, the minimum when absent — as Nova's and Cinder's api_version_request do.
 *
 * @throws {ApiError} 400 for a malformed version, 406 for one outside the range.
 */
export function requestedMicroversion(
  headers: IncomingHttpHeaders,
  service: 'compute' | 'volume',
  range: MicroversionRange,
): Microversion {
  let text: string | undefined;
  const modern = headers['openstack-api-version'];
  if (typeof modern === 'string') {
    for (const part of modern.split(',')) {
      const [name, value] = part.trim().split(/\s+/, 2);
      if (name?.toLowerCase() === service && value !== undefined) text = value;
    }
  }
  const legacy = headers['x-openstack-nova-api-version'];
  if (text === undefined && service === 'compute' && typeof legacy === 'string') text = legacy.trim();
  if (text === undefined) return range.min;
  if (text.toLowerCase() === 'latest') return range.max;
  const v = parseMicroversion(text);
  if (!v) {
    throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  if (compareMicroversions(v, range.min) < 0 || compareMicroversions(v, range.max) > 0) {
    throw new ApiError(
      406,
      `Version ${text} is not supported by the API. Minimum is ${formatMicroversion(range.min)} and maximum is ${formatMicroversion(range.max)}.`,
    );
  }
  return v;
}

/** The headers Nova and Cinder add to every versioned answer. */
export function microversionHeaders(service: 'compute' | 'volume', v: Microversion): Record<string, string> {
  const text = formatMicroversion(v);
  return service === 'compute'
    ? {
        'OpenStack-API-Version': `compute ${text}`,
        'X-OpenStack-Nova-API-Version': text,
        Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      }
    : { 'OpenStack-API-Version': `volume ${text}`, Vary: 'OpenStack-API-Version' };
}
