/**
 * The columns `mk get` prints per kind, as kubectl's table printers define them
 * (kubernetes/kubernetes pkg/printers/internalversion/printers.go: printPod, printNode, printNamespace).
 */
import type { Event, KindInfo, KubeObject, Namespace, Node, Pod } from '../../messages';
import { podColumns, podIP } from './pod-status';
import { renderTable } from './tabwriter';
import { age } from './time';

/** What a table needs besides the objects. */
export interface TableOptions {
  wide?: boolean;
  /** Prepend a NAMESPACE column (`-A`). */
  withNamespace?: boolean;
  noHeaders?: boolean;
  now?: number;
}

interface Columns { header: string[]; wideHeader: string[]; row: (o: KubeObject, now: number) => string[]; wide: (o: KubeObject) => string[] }

const POD: Columns = {
  header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  wideHeader: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
  row: (o, now) => {
    const pod = o as Pod;
    const c = podColumns(pod, now);
    return [pod.metadata.name, c.ready, c.status, c.restarts, age(pod.metadata.creationTimestamp, now)];
  },
  wide: (o) => {
    const pod = o as Pod;
    return [podIP(pod) ?? '<none>', pod.spec?.nodeName || '<none>', '<none>', '<none>'];
  },
};

const NODE: Columns = {
  header: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wideHeader: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  row: (o, now) => {
    const node = o as Node;
    return [node.metadata.name, nodeStatus(node), nodeRoles(node), age(node.metadata.creationTimestamp, now),
      node.status?.nodeInfo?.kubeletVersion || ''];
  },
  wide: (o) => {
    const node = o as Node;
    const addr = (t: string): string => node.status?.addresses?.find((a) => a.type === t)?.address || '<none>';
    const info = node.status?.nodeInfo ?? {};
    return [addr('InternalIP'), addr('ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>'];
  },
};

const NAMESPACE: Columns = {
  header: ['NAME', 'STATUS', 'AGE'],
  wideHeader: [],
  row: (o, now) => [o.metadata.name, (o as Namespace).status?.phase ?? 'Active', age(o.metadata.creationTimestamp, now)],
  wide: () => [],
};

/**
 * kubectl's printEvent: LAST SEEN is `5m` or `5m (x3 over 10m)` for a repeated event. Wide adds
 * the source, first seen, count and name (kubectl puts SUBOBJECT and SOURCE before MESSAGE).
 */
const EVENT: Columns = {
  header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  wideHeader: ['SOURCE', 'FIRST SEEN', 'COUNT', 'NAME'],
  row: (o, now) => {
    const e = o as unknown as Event;
    const last = age(e.lastTimestamp ?? e.firstTimestamp, now);
    const seen = (e.count ?? 1) > 1 ? `${last} (x${e.count} over ${age(e.firstTimestamp, now)})` : last;
    const io = e.involvedObject ?? { kind: '', name: '' };
    return [seen, e.type ?? '', e.reason ?? '', `${(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, (e.message ?? '').trim()];
  },
  wide: (o) => {
    const e = o as unknown as Event;
    const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
    return [source, age(e.firstTimestamp), String(e.count ?? 1), e.metadata.name];
  },
};

const GENERIC: Columns = {
  header: ['NAME', 'AGE'],
  wideHeader: [],
  row: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
  wide: () => [],
};

function columnsFor(kind: KindInfo): Columns {
  switch (kind.kind) {
    case 'Pod': return POD;
    case 'Node': return NODE;
    case 'Namespace': return NAMESPACE;
    case 'Event': return EVENT;
    default: return GENERIC;
  }
}

/** Renders objects of one kind as kubectl's table; trailing newline included. */
export function renderObjects(kind: KindInfo, objects: KubeObject[], opts: TableOptions = {}): string {
  const cols = columnsFor(kind);
  const now = opts.now ?? Date.now();
  let header = opts.wide ? [...cols.header, ...cols.wideHeader] : [...cols.header];
  if (opts.withNamespace) header = ['NAMESPACE', ...header];
  const rows = objects.map((o) => {
    let r = cols.row(o, now);
    if (opts.wide) r = [...r, ...cols.wide(o)];
    if (opts.withNamespace) r = [o.metadata.namespace ?? '', ...r];
    return r;
  });
  return renderTable(opts.noHeaders ? null : header, rows);
}

/**
 * kubectl's node STATUS: the Ready condition (`Ready`, `NotReady`, `Unknown`), plus
 * `SchedulingDisabled` when cordoned.
 */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** Roles from `node-role.kubernetes.io/<role>` labels (and `kubernetes.io/role`), `<none>` if none. */
export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}
