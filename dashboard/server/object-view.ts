/**
 * `object`: one object with what is around it: its conditions, its events (the shared events
 * feed, by involvedObject uid), its owners (its ownerReferences, found by uid in their kind's
 * feed) and its dependents (objects of any kind whose ownerReferences name its uid), and its lag.
 * On every change the parts that differ from what was sent go in a delta.
 */
import { KINDS, kindOf, resolveKind, type Event, type KubeObject, type OwnerReference } from '../../messages';
import type { ConditionRow, DeltaFrame, EventRow, ObjectDetail, ParamsOf, RelatedRef, SnapshotFrame } from '../protocol';
import { kindNamed, lagOf, type Sources, type View } from './views';

/** The detail of `obj` (null: it does not exist), from the shared feeds. */
export function objectDetail(obj: KubeObject | null, s: Sources): ObjectDetail {
  if (!obj) return { object: null, conditions: [], owners: [], dependents: [], events: [] };
  const uid = obj.metadata.uid;
  const conditions = ((obj.status as { conditions?: ConditionRow[] } | undefined)?.conditions ?? []).map((c) => ({
    type: c.type, status: c.status,
    ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}),
    ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime } : {}),
  }));
  const ref = (o: KubeObject): RelatedRef => ({
    kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name, uid: o.metadata.uid ?? '',
  });
  const owners = (obj.metadata.ownerReferences ?? []).map((r: OwnerReference) => {
    const kind = kindOf(r.apiVersion, r.kind) ?? resolveKind(r.kind);
    const found = kind && kind.storage === 'store' ? [...s.feed(kind).objects.values()].find((o) => o.metadata.uid === r.uid) : undefined;
    return found ? ref(found) : { kind: r.kind, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), name: r.name, uid: r.uid };
  });
  const dependents: RelatedRef[] = [];
  if (uid) {
    for (const k of KINDS.filter((x) => x.storage === 'store')) {
      for (const o of s.feed(k).objects.values()) {
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) dependents.push(ref(o));
      }
    }
  }
  const events: EventRow[] = [];
  for (const e of s.feed(kindNamed('events')).objects.values() as Iterable<unknown> as Iterable<Event>) {
    const io = e.involvedObject;
    const same = uid && io.uid ? io.uid === uid
      : io.kind === obj.kind && io.name === obj.metadata.name && (io.namespace ?? '') === (obj.metadata.namespace ?? '');
    if (!same) continue;
    events.push({
      key: e.metadata.name, type: e.type, reason: e.reason, message: e.message, count: e.count,
      firstTimestamp: e.firstTimestamp, lastTimestamp: e.lastTimestamp,
      source: e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component,
    });
  }
  events.sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? '') || a.key.localeCompare(b.key));
  const lag = lagOf(obj);
  return {
    object: obj, conditions, owners, dependents, events, ...(lag ? { lag } : {}),
  };
}

/** `object`. Throws UnknownKind. */
export function objectView(sub: number, p: ParamsOf<'object'>, s: Sources): View {
  const kind = kindNamed(p.kind);
  const namespace = kind.namespaced ? p.namespace ?? 'default' : undefined;
  const feeds = [...new Set([kind, kindNamed('events'), ...KINDS.filter((k) => k.storage === 'store')])].map((k) => s.feed(k));
  const own = s.feed(kind);
  const version = (): number => feeds.reduce((n, f) => n * 31 + f.version, 0);
  let sent: ObjectDetail | undefined;
  let seen = -1;
  const current = (): ObjectDetail => objectDetail(own.find(namespace, p.name) ?? null, s);
  return {
    async start(): Promise<SnapshotFrame> {
      await Promise.all(feeds.map((f) => f.whenReady()));
      seen = version();
      sent = current();
      return { type: 'snapshot', sub, topic: 'object', detail: sent };
    },
    tick(): DeltaFrame | undefined {
      const v = version();
      if (!sent || v === seen) return undefined;
      seen = v;
      const next = current();
      const differs = (k: keyof ObjectDetail): boolean => JSON.stringify(sent![k]) !== JSON.stringify(next[k]);
      const before = new Map(sent.events.map((e) => [e.key, JSON.stringify(e)]));
      const upsert = next.events.filter((e) => before.get(e.key) !== JSON.stringify(e));
      const keys = new Set(next.events.map((e) => e.key));
      const remove = sent.events.filter((e) => !keys.has(e.key)).map((e) => e.key);
      const delta = {
        ...(differs('object') ? { object: next.object } : {}),
        ...(differs('conditions') ? { conditions: next.conditions } : {}),
        ...(differs('owners') ? { owners: next.owners } : {}),
        ...(differs('dependents') ? { dependents: next.dependents } : {}),
        ...(differs('lag') ? { lag: next.lag } : {}),
        ...(upsert.length || remove.length ? { events: { ...(upsert.length ? { upsert } : {}), ...(remove.length ? { remove } : {}) } } : {}),
      };
      sent = next;
      return Object.keys(delta).length ? { type: 'delta', sub, topic: 'object', ...delta } : undefined;
    },
    stop(): void { /* the feeds are shared */ },
  };
}
