/** The Event kind as messages/ declares it: read-only, printed like `kubectl get events`. */
import type { Event } from '../event';
import type { KindInfo } from '../kind';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use: building them costs more than a whole `mk get`, which never needs them. */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let eventModuleLoaded: typeof import('../event') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const eventModule = () => (eventModuleLoaded ??= require('../event') as typeof import('../event'));

const ev = (o: unknown): Event => o as Event;

/**
 * kubectl's printEvent: LAST SEEN is `5m` or `5m (x3 over 10m)` for a repeated event. Wide adds
 * the source, first seen, count and name.
 */
export const EventKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  get schema() { return eventModule().EventSchema; },
  storage: 'stream',
  description: 'A report of something that happened to an object, recorded by a component of mk and kept for an hour.',
  readOnly: true,
  // The fields Kubernetes selects events by (besides metadata.name and metadata.namespace).
  fieldSelectors: {
    'involvedObject.kind': (o) => ev(o).involvedObject?.kind,
    'involvedObject.name': (o) => ev(o).involvedObject?.name,
    'involvedObject.namespace': (o) => ev(o).involvedObject?.namespace,
    'involvedObject.uid': (o) => ev(o).involvedObject?.uid,
    'involvedObject.apiVersion': (o) => ev(o).involvedObject?.apiVersion,
    reason: (o) => ev(o).reason,
    type: (o) => ev(o).type,
    source: (o) => ev(o).source?.component,
  },
  columns: [
    {
      name: 'LAST SEEN',
      value: (o, now) => {
        const e = ev(o);
        const last = age(e.lastTimestamp ?? e.firstTimestamp, now);
        return (e.count ?? 1) > 1 ? `${last} (x${e.count} over ${age(e.firstTimestamp, now)})` : last;
      },
    },
    { name: 'TYPE', value: (o) => ev(o).type ?? '' },
    { name: 'REASON', value: (o) => ev(o).reason ?? '' },
    { name: 'OBJECT', value: (o) => `${(ev(o).involvedObject?.kind ?? '').toLowerCase()}/${ev(o).involvedObject?.name ?? ''}` },
    { name: 'MESSAGE', value: (o) => (ev(o).message ?? '').trim() },
    { name: 'SOURCE', priority: 1, value: (o) => [ev(o).source?.component, ev(o).source?.host].filter(Boolean).join(', ') },
    { name: 'FIRST SEEN', priority: 1, value: (o, now) => age(ev(o).firstTimestamp, now) },
    { name: 'COUNT', priority: 1, value: (o) => String(ev(o).count ?? 1) },
    { name: 'NAME', priority: 1, value: (o) => o.metadata.name },
  ],
};
