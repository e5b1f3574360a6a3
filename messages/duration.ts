/** Durations as Go's flags write them (`40s`, `1m30s`, `500ms`), for flags and settings. No I/O. */
import { ValidationError } from './errors';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration (`40s`, `1m30s`, `500ms`, `0s`; a bare number is seconds) into milliseconds.
 * Throws ValidationError naming `what` when it is not one, or is negative, or is zero and
 * `allowZero` is not set.
 */
export function parseDuration(text: string, what: string, opts: { allowZero?: boolean } = {}): number {
  const t = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(t)) {
    ms = Number(t) * 1000;
  } else {
    const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
      throw new ValidationError(`${what}: "${text}" is not a duration (examples: 40s, 1m30s, 500ms)`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  }
  if (ms === 0 && opts.allowZero) return 0;
  if (!(ms > 0)) throw new ValidationError(`${what}: "${text}" must be more than zero`);
  return Math.round(ms);
}
