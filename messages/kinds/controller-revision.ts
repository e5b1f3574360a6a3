/** The ControllerRevision kind as messages/ declares it: schema and the columns of `kubectl get controllerrevisions`. */
import type { ControllerRevision } from '../controller-revision';
import type { KindInfo } from '../kind';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let revisionModuleLoaded: typeof import('../controller-revision') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const revisionModule = () => (revisionModuleLoaded ??= require('../controller-revision') as typeof import('../controller-revision'));

/** `statefulset.apps/web`: the revision's controller as kubectl prints it, or `<none>`. */
function controllerColumn(o: unknown): string {
  const ref = (o as ControllerRevision).metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return '<none>';
  const group = ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
  return `${ref.kind.toLowerCase()}${group}/${ref.name}`;
}

/** kubectl's controller revision table (pkg/printers/internalversion/printers.go printControllerRevision). */
export const ControllerRevisionKind: KindInfo = {
  apiVersion: 'apps/v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  shortNames: [],
  namespaced: true,
  get schema() { return revisionModule().ControllerRevisionSchema; },
  storage: 'store',
  description: 'A fixed snapshot of a StatefulSet\'s or DaemonSet\'s pod template with its number in the set\'s history; '
    + 'the set\'s controller keeps them for `mk rollout history` and `mk rollout undo`.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'CONTROLLER', value: controllerColumn },
    { name: 'REVISION', value: (o) => String((o as unknown as ControllerRevision).revision ?? '') },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
};
