/** The ReplicaSet kind as messages/ declares it: schema and the columns of `kubectl get rs`. */
import type { KindInfo } from '../kind';
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import type { ReplicaSet } from '../replicaset';
import { describeReplicaSet } from '../printing/describe-replicaset';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let rsModuleLoaded: typeof import('../replicaset') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const rsModule = () => (rsModuleLoaded ??= require('../replicaset') as typeof import('../replicaset'));

const rs = (o: unknown): ReplicaSet => o as ReplicaSet;

/** kubectl's replica set table (pkg/printers/internalversion/printers.go printReplicaSet). */
export const ReplicaSetKind: KindInfo = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  namespaced: true,
  get schema() { return rsModule().ReplicaSetSchema; },
  storage: 'store',
  description: 'Keeps a number of identical pods running: it makes pods from its template when there are too few '
    + 'and deletes some when there are too many.',
  scalable: true,
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'DESIRED', value: (o) => String(rs(o).spec?.replicas ?? 1) },
    { name: 'CURRENT', value: (o) => String(rs(o).status?.replicas ?? 0) },
    { name: 'READY', value: (o) => String(rs(o).status?.readyReplicas ?? 0) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => (rs(o).spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',') },
    { name: 'IMAGES', priority: 1, value: (o) => (rs(o).spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',') },
    { name: 'SELECTOR', priority: 1, value: (o) => formatSelector(rs(o).spec?.selector) },
  ],
  describer: {
    related: [{
      plural: 'pods',
      where: (p, set) => p.metadata.namespace === set.metadata.namespace
        && !!p.metadata.ownerReferences?.some((r) => r.controller && r.uid === set.metadata.uid),
    }],
    describe: (o, ctx) => describeReplicaSet(rs(o), ctx.related[0] as Pod[], ctx.events, ctx.now),
  },
};
