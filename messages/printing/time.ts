/** Durations and timestamps the way kubectl prints them. */

/**
 * kubectl's AGE: k8s.io/apimachinery/pkg/util/duration.HumanDuration. Precision drops as the
 * duration grows (`45s`, `3m2s`, `12m`, `5h3m`, `20h`, `2d3h`, `30d`, `2y15d`); a clock up to 2 s
 * ahead still reads `0s`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.trunc(hours / 24 / 365);
    const days = Math.trunc(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** kubectl's translateTimestampSince: the age of an RFC 3339 timestamp, `<unknown>` when absent. */
export function age(timestamp: string | undefined, now: number = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

/** The zone describe prints times in; undefined: the host's (as kubectl does). */
let displayZone: string | undefined;

/**
 * Sets the IANA time zone (`UTC`, `Europe/Paris`) that rfc1123z uses by default, or the host's
 * with undefined. Throws RangeError for an unknown zone.
 */
export function setDisplayTimeZone(zone: string | undefined): void {
  if (zone !== undefined) new Intl.DateTimeFormat('en-US', { timeZone: zone });
  displayZone = zone;
}

/**
 * Go's time.RFC1123Z (`Mon, 02 Jan 2006 15:04:05 -0700`) in `zone` (default: setDisplayTimeZone's,
 * else the host's), as `kubectl describe` shows times. `<unknown>` when absent; an unparseable
 * timestamp is returned as it is.
 */
export function rfc1123z(timestamp: string | undefined, zone: string | undefined = displayZone): string {
  if (!timestamp) return '<unknown>';
  const d = new Date(timestamp);
  if (Number.isNaN(d.getTime())) return timestamp;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
  });
  const part = (type: Intl.DateTimeFormatPartTypes): string => fmt.formatToParts(d).find((p) => p.type === type)?.value ?? '';
  // longOffset reads `GMT+05:30`, or just `GMT` at offset zero.
  const offset = /([+-])(\d\d):(\d\d)/.exec(part('timeZoneName'));
  const zoneText = offset ? `${offset[1]}${offset[2]}${offset[3]}` : '+0000';
  return `${part('weekday')}, ${part('day')} ${part('month')} ${part('year')} ${part('hour')}:${part('minute')}:${part('second')} ${zoneText}`;
}
