/**
 * The feed's views: what a subscription sends. A table view computes its page from a shared
 * source (the actor trees, a kind's objects) when that source changed, and sends only the
 * difference from the page it sent last. Other views (one object, a log, a usage series, a raw
 * subject) push their deltas as their source speaks.
 */
import {
  KINDS, matches, parseSelector, resolveKind, type KindInfo, type KubeObject, type Requirement,
} from '../../messages';
import type {
  ColumnInfo, DeltaFrame, LagRow, NodeRow, ObjectRow, ParamsOf, ProcessRow, SnapshotFrame, TableTopic, TreeRow,
} from '../protocol';
import type { ActorTrees } from './actor-trees';
import type { KindFeed } from './kind-feed';
import { diffPage, pageOf, type Keyed, type Page } from './tables';
import { FeedError } from './feed-error';
import type { Usage } from '../../messages/usage';

/** A running subscription. */
export interface View {
  /** The first snapshot (also after an update). */
  start(): Promise<SnapshotFrame>;
  /** Called on every tick: a delta when the view's source changed since the last one sent. */
  tick?(): DeltaFrame | undefined;
  stop(): void;
}

/** Shared sources: the actor trees and one feed per kind. */
export interface Sources {
  trees: ActorTrees;
  /** The shared feed of a kind (started on first use). */
  feed(kind: KindInfo): KindFeed;
  /** The latest usage of nodes and of pods (`<ns>/<name>`), refreshed while someone looks. */
  usage(): { nodes: Map<string, Usage>; pods: Map<string, Usage>; version: number };
}

/** The kind a page named, or an UnknownKind error naming it. */
export function kindNamed(name: string): KindInfo {
  const kind = resolveKind(name);
  if (!kind) {
    throw new FeedError('UnknownKind', `unknown kind "${name}": known kinds are ${KINDS.map((k) => k.plural).join(', ')}`);
  }
  return kind;
}

/** A table view over rows computed by `compute` whenever `version()` moved. */
class TableView<T extends Keyed, Topic extends TableTopic> implements View {
  private sent: Page<T> | undefined;
  private seen = -1;
  private sentProcesses = new Map<string, string>();

  constructor(
    private readonly sub: number, private readonly topic: Topic, private readonly offset: number,
    private readonly limit: number, private readonly version: () => number, private readonly compute: () => T[],
    private readonly ready: Promise<void> = Promise.resolve(),
    private readonly extra: { columns?: ColumnInfo[]; kind?: string; processes?: () => ProcessRow[] } = {},
  ) {}

  async start(): Promise<SnapshotFrame> {
    await this.ready;
    this.seen = this.version();
    this.sent = pageOf(this.compute(), this.offset, this.limit);
    const processes = this.extra.processes?.();
    if (processes) this.sentProcesses = new Map(processes.map((p) => [p.key, JSON.stringify(p)]));
    return {
      type: 'snapshot', sub: this.sub, topic: this.topic, total: this.sent.total, offset: this.offset, rows: this.sent.rows,
      ...(this.extra.columns ? { columns: this.extra.columns, kind: this.extra.kind } : {}),
      ...(processes ? { processes } : {}),
    } as unknown as SnapshotFrame;
  }

  tick(): DeltaFrame | undefined {
    const v = this.version();
    if (!this.sent || v === this.seen) return undefined;
    this.seen = v;
    const next = pageOf(this.compute(), this.offset, this.limit);
    const change = diffPage(this.sent, next);
    this.sent = next;
    const procs = this.processesChange();
    if (!change && !procs) return undefined;
    return { type: 'delta', sub: this.sub, topic: this.topic, ...change, ...(procs ? { processes: procs } : {}) } as unknown as DeltaFrame;
  }

  private processesChange(): { upsert?: ProcessRow[]; remove?: string[] } | undefined {
    const now = this.extra.processes?.();
    if (!now) return undefined;
    const next = new Map(now.map((p) => [p.key, JSON.stringify(p)]));
    const upsert = now.filter((p) => this.sentProcesses.get(p.key) !== next.get(p.key));
    const remove = [...this.sentProcesses.keys()].filter((k) => !next.has(k));
    this.sentProcesses = next;
    if (!upsert.length && !remove.length) return undefined;
    return { ...(upsert.length ? { upsert } : {}), ...(remove.length ? { remove } : {}) };
  }

  stop(): void { /* the sources are shared */ }
}

/** `tree`. */
export function treeView(sub: number, p: ParamsOf<'tree'>, s: Sources): View {
  return new TableView<TreeRow, 'tree'>(sub, 'tree', p.offset, p.limit, () => s.trees.version,
    () => s.trees.rows(p), undefined, { processes: () => s.trees.processes() });
}

/** `hot`. */
export function hotView(sub: number, p: ParamsOf<'hot'>, s: Sources): View {
  return new TableView<TreeRow, 'hot'>(sub, 'hot', 0, p.n, () => s.trees.version, () => s.trees.hot(p.by, p.n, p));
}

/** The cells of `mk get`'s columns, and the row's identity. Rows are cached per revision. */
const rowCache = new WeakMap<KubeObject, ObjectRow>();
function objectRow(kind: KindInfo, o: KubeObject): ObjectRow {
  let row = rowCache.get(o);
  if (!row) {
    const now = Date.now();
    row = {
      key: o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      name: o.metadata.name,
      ...(kind.namespaced ? { namespace: o.metadata.namespace } : {}),
      uid: o.metadata.uid ?? '',
      ...(o.metadata.creationTimestamp ? { created: o.metadata.creationTimestamp } : {}),
      resourceVersion: o.metadata.resourceVersion ?? '',
      cells: kind.columns.map((c) => c.value(o, now)),
    };
    rowCache.set(o, row);
  }
  return row;
}

const byNamespaceName = (a: KubeObject, b: KubeObject): number =>
  (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);

/** `objects`. Throws UnknownKind, or BadRequest for a malformed label selector. */
export function objectsView(sub: number, p: ParamsOf<'objects'>, s: Sources): View {
  const kind = kindNamed(p.kind);
  let selector: Requirement[] | undefined;
  try {
    selector = p.labelSelector ? parseSelector(p.labelSelector) : undefined;
  } catch (err) {
    throw new FeedError('BadRequest', `invalid labelSelector "${p.labelSelector}": ${(err as Error).message}`);
  }
  const feed = s.feed(kind);
  const columns = kind.columns.map((c) => ({ name: c.name, priority: c.priority ?? 0 }));
  return new TableView<ObjectRow, 'objects'>(sub, 'objects', p.offset, p.limit, () => feed.version, () => {
    const objs = [...feed.objects.values()].filter((o) => (!p.namespace || !kind.namespaced || o.metadata.namespace === p.namespace)
      && (!selector || matches(selector, o.metadata.labels)));
    return objs.sort(byNamespaceName).map((o) => objectRow(kind, o));
  }, feed.whenReady(), { columns, kind: kind.plural });
}

/** `nodes`: every node, its resources, usage and pods. */
export function nodesView(sub: number, _p: ParamsOf<'nodes'>, s: Sources): View {
  const nodes = s.feed(kindNamed('nodes'));
  const pods = s.feed(kindNamed('pods'));
  return new TableView<NodeRow, 'nodes'>(sub, 'nodes', 0, 10_000, () => nodes.version * 1e6 + pods.version * 1e3 + s.usage().version, () => {
    const usage = s.usage();
    const byNode = new Map<string, NodeRow['pods']>();
    for (const pod of pods.objects.values()) {
      const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!node) continue;
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const u = usage.pods.get(key);
      const list = byNode.get(node) ?? [];
      list.push({
        namespace: pod.metadata.namespace ?? '', name: pod.metadata.name,
        ...((pod.status as { phase?: string } | undefined)?.phase ? { phase: (pod.status as { phase: string }).phase } : {}),
        ...(u ? { usage: u } : {}),
      });
      byNode.set(node, list);
    }
    return [...nodes.objects.values()].sort(byNamespaceName).map((n) => {
      const st = (n.status ?? {}) as { capacity?: Record<string, string>; allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
      const u = usage.nodes.get(n.metadata.name);
      return {
        key: n.metadata.name, name: n.metadata.name,
        ready: (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        unschedulable: !!(n.spec as { unschedulable?: boolean } | undefined)?.unschedulable,
        capacity: stringMap(st.capacity), allocatable: stringMap(st.allocatable),
        ...(u ? { usage: u } : {}),
        pods: (byNode.get(n.metadata.name) ?? []).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      };
    });
  }, Promise.all([nodes.whenReady(), pods.whenReady()]).then(() => undefined));
}

function stringMap(m: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
}

/** metadata.generation against status.observedGeneration; undefined when the object has no generation. */
export function lagOf(o: KubeObject): { generation: number; observedGeneration?: number; behind: boolean } | undefined {
  const generation = o.metadata.generation;
  if (generation === undefined) return undefined;
  const observed = (o.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  return { generation, ...(observed !== undefined ? { observedGeneration: observed } : {}), behind: observed !== undefined && observed < generation };
}

/**
 * `lag`: objects whose controller reported an observedGeneration behind their generation (kinds
 * whose status has no observedGeneration are never behind).
 */
export function lagView(sub: number, p: ParamsOf<'lag'>, s: Sources): View {
  const kinds = p.kind ? [kindNamed(p.kind)] : KINDS.filter((k) => k.storage === 'store');
  const feeds = kinds.map((k) => s.feed(k));
  return new TableView<LagRow, 'lag'>(sub, 'lag', 0, 10_000, () => feeds.reduce((n, f) => n * 31 + f.version, 0), () => {
    const rows: LagRow[] = [];
    for (const f of feeds) {
      for (const o of f.objects.values()) {
        const lag = lagOf(o);
        if (!lag?.behind) continue;
        rows.push({
          key: `${f.kind.plural}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, kind: f.kind.plural,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name,
          generation: lag.generation, ...(lag.observedGeneration !== undefined ? { observedGeneration: lag.observedGeneration } : {}),
        });
      }
    }
    return rows.sort((a, b) => a.key.localeCompare(b.key));
  }, Promise.all(feeds.map((f) => f.whenReady())).then(() => undefined));
}
