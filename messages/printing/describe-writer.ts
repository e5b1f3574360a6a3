/**
 * kubectl's describe PrefixWriter: lines written at a nesting level (two spaces each), with cells
 * separated by tabs. The text is aligned by one tabwriter (minimum width 0, padding 2) when it is
 * printed (kubernetes/kubectl pkg/describe/describe.go: NewPrefixWriter, tabwriter(out, 0, 8, 2, ' ', 0)).
 */
import { rfc1123z } from './time';

/** Collects a description; `toString()` returns its tab-separated text. */
export class DescribeWriter {
  private buf = '';

  /** Writes `text` (which may contain tabs and should end with a newline) at `level`. */
  write(level: number, text: string): void {
    this.buf += '  '.repeat(level) + text;
  }

  /** Writes the rest of a line with no indentation. */
  writeRaw(text: string): void {
    this.buf += text;
  }

  /** The text, cells separated by tabs (not yet aligned). */
  toString(): string {
    return this.buf;
  }
}

/** kubectl's printLabelsMultiline: `Labels:  a=b` then one `key=value` per line, `<none>` if empty. */
export function writeLabels(w: DescribeWriter, title: string, labels: Record<string, string> | undefined): void {
  w.write(0, `${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    w.writeRaw('<none>\n');
    return;
  }
  keys.forEach((k, i) => {
    if (i > 0) w.write(0, '\t');
    w.writeRaw(`${k}=${labels?.[k]}\n`);
  });
}

/** kubectl's printAnnotationsMultiline: `key: value` per line, `<none>` if empty. */
export function writeAnnotations(w: DescribeWriter, title: string, annotations: Record<string, string> | undefined): void {
  w.write(0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {}).filter((k) => k !== 'kubectl.kubernetes.io/last-applied-configuration').sort();
  if (keys.length === 0) {
    w.writeRaw('<none>\n');
    return;
  }
  keys.forEach((k, i) => {
    if (i > 0) w.write(0, '\t');
    const v = annotations?.[k] ?? '';
    w.writeRaw(`${k}: ${v.length > 200 ? `${v.slice(0, 197)}...` : v}\n`);
  });
}

/** A cluster event as the `events` kind may store it (the core/v1 Event fields describe prints). */
export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  metadata?: { creationTimestamp?: string };
}

/** kubectl's DescribeEvents: `Events:  <none>` or the Type/Reason/Age/From/Message table. */
export function writeEvents(w: DescribeWriter, events: EventLike[] | undefined, ageOf: (ts: string | undefined) => string): void {
  if (!events || events.length === 0) {
    w.write(0, 'Events:\t<none>\n');
    return;
  }
  w.write(0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(1, '----\t------\t----\t----\t-------\n');
  for (const e of events) {
    const first = e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
    const last = e.lastTimestamp ?? first;
    let interval = ageOf(last);
    if ((e.count ?? 1) > 1) interval = `${ageOf(last)} (x${e.count} over ${ageOf(first)})`;
    const from = e.source?.component ?? e.reportingComponent ?? '';
    w.write(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${from}\t${(e.message ?? '').trim()}\n`);
  }
}

/** A time for describe: RFC1123Z, or `<unknown>`. */
export const describeTime = rfc1123z;
