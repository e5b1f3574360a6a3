/** The StatefulSet kind as messages/ declares it: schema and the columns of `kubectl get sts`. */
import type { KindInfo } from '../kind';
import type { Pod } from '../pod';
import { describeStatefulSet } from '../printing/describe-statefulset';
import { age } from '../printing/time';
import type { StatefulSet } from '../statefulset';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let stsModuleLoaded: typeof import('../statefulset') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const stsModule = () => (stsModuleLoaded ??= require('../statefulset') as typeof import('../statefulset'));

const sts = (o: unknown): StatefulSet => o as StatefulSet;

/** kubectl's stateful set table (pkg/printers/internalversion/printers.go printStatefulSet). */
export const StatefulSetKind: KindInfo = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  namespaced: true,
  get schema() { return stsModule().StatefulSetSchema; },
  storage: 'store',
  description: 'Keeps replicas with stable names (<set>-0, <set>-1, ...) and stable DNS names through a headless Service, '
    + 'made and removed in order, and replaced with the same name when one goes.',
  scalable: true,
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'READY', value: (o) => `${sts(o).status?.readyReplicas ?? 0}/${sts(o).spec?.replicas ?? 1}` },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => (sts(o).spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',') },
    { name: 'IMAGES', priority: 1, value: (o) => (sts(o).spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',') },
  ],
  describer: {
    related: [{
      plural: 'pods',
      where: (p, set) => p.metadata.namespace === set.metadata.namespace
        && !!p.metadata.ownerReferences?.some((r) => r.controller && r.uid === set.metadata.uid),
    }],
    describe: (o, ctx) => describeStatefulSet(sts(o), ctx.related[0] as Pod[], ctx.events, ctx.now),
  },
};
