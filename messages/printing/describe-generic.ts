/**
 * The description of a kind that has no describer of its own, in the shape of kubectl's generic
 * describer (kubernetes/kubectl pkg/describe/describe.go: GenericDescriberFor): the metadata
 * every object has, then spec and status as an indented tree with capitalised field names.
 */
import type { KubeObject } from '../meta';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

const title = (key: string): string => key.charAt(0).toUpperCase() + key.slice(1);

function writeValue(w: DescribeWriter, level: number, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    w.write(level, `${title(key)}:\n`);
    for (const item of value) {
      if (item !== null && typeof item === 'object') {
        const entries = Object.entries(item as Record<string, unknown>);
        entries.forEach(([k, v], i) => {
          if (i === 0 && (v === null || typeof v !== 'object')) w.write(level + 1, `${title(k)}:\t${String(v)}\n`);
          else writeValue(w, level + 1, k, v);
        });
      } else {
        w.write(level + 1, `${String(item)}\n`);
      }
    }
    return;
  }
  if (typeof value === 'object') {
    w.write(level, `${title(key)}:\n`);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) writeValue(w, level + 1, k, v);
    return;
  }
  w.write(level, `${title(key)}:\t${String(value)}\n`);
}

/** Describes any object: metadata, spec and status, then its events (undefined: `<none>`). */
export function describeGeneric(obj: KubeObject, events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = obj.metadata;
  w.write(0, `Name:\t${md.name}\n`);
  if (md.namespace) w.write(0, `Namespace:\t${md.namespace}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `API Version:\t${obj.apiVersion}\n`);
  w.write(0, `Kind:\t${obj.kind}\n`);
  if (md.creationTimestamp) w.write(0, `Creation Timestamp:\t${md.creationTimestamp}\n`);
  const rest = Object.entries(obj as unknown as Record<string, unknown>).filter(([k]) => !['apiVersion', 'kind', 'metadata'].includes(k));
  for (const [k, v] of rest) writeValue(w, 0, k, v);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
