/** RFC 3339 timestamps (https://www.rfc-editor.org/rfc/rfc3339#section-5.6), as Choice rules and Wait states read them. */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * The time `s` names, in milliseconds since the epoch (fractions past the millisecond are
 * dropped), or undefined when it is not an RFC 3339 date-time with a zone ("Z" or "+hh:mm").
 */
export function parseTimestamp(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(s.replace(/\.(\d{3})\d+/, '.$1'));
  return Number.isNaN(ms) ? undefined : ms;
}
