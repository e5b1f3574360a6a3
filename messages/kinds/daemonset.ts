/** The DaemonSet kind as messages/ declares it: schema and the columns of `kubectl get ds`. */
import type { DaemonSet } from '../daemonset';
import type { KindInfo } from '../kind';
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import { describeDaemonSet } from '../printing/describe-daemonset';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let dsModuleLoaded: typeof import('../daemonset') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const dsModule = () => (dsModuleLoaded ??= require('../daemonset') as typeof import('../daemonset'));

const ds = (o: unknown): DaemonSet => o as DaemonSet;

/** The template's nodeSelector as kubectl prints it: `k=v,k2=v2`, or `<none>`. */
function nodeSelector(o: unknown): string {
  const sel = Object.entries(ds(o).spec?.template?.spec?.nodeSelector ?? {});
  return sel.length === 0 ? '<none>' : sel.map(([k, v]) => `${k}=${v}`).join(',');
}

/** kubectl's daemon set table (pkg/printers/internalversion/printers.go printDaemonSet). */
export const DaemonSetKind: KindInfo = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  namespaced: true,
  get schema() { return dsModule().DaemonSetSchema; },
  storage: 'store',
  description: 'Runs one pod of its template on every node the template fits: a node that joins gets one, '
    + 'a node that no longer fits loses it, and a new template replaces them node by node.',
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'DESIRED', value: (o) => String(ds(o).status?.desiredNumberScheduled ?? 0) },
    { name: 'CURRENT', value: (o) => String(ds(o).status?.currentNumberScheduled ?? 0) },
    { name: 'READY', value: (o) => String(ds(o).status?.numberReady ?? 0) },
    { name: 'UP-TO-DATE', value: (o) => String(ds(o).status?.updatedNumberScheduled ?? 0) },
    { name: 'AVAILABLE', value: (o) => String(ds(o).status?.numberAvailable ?? 0) },
    { name: 'NODE SELECTOR', value: nodeSelector },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => (ds(o).spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',') },
    { name: 'IMAGES', priority: 1, value: (o) => (ds(o).spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',') },
    { name: 'SELECTOR', priority: 1, value: (o) => formatSelector(ds(o).spec?.selector) },
  ],
  describer: {
    related: [{
      plural: 'pods',
      where: (p, set) => p.metadata.namespace === set.metadata.namespace
        && !!p.metadata.ownerReferences?.some((r) => r.controller && r.uid === set.metadata.uid),
    }],
    describe: (o, ctx) => describeDaemonSet(ds(o), ctx.related[0] as Pod[], ctx.events, ctx.now),
  },
};
