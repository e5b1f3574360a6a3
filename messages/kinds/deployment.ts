/** The Deployment kind as messages/ declares it: schema and the columns of `kubectl get deploy`. */
import type { Deployment } from '../deployment';
import type { KindInfo } from '../kind';
import { formatSelector } from '../label-selector';
import type { ReplicaSet } from '../replicaset';
import { describeDeployment } from '../printing/describe-deployment';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let deployModuleLoaded: typeof import('../deployment') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const deployModule = () => (deployModuleLoaded ??= require('../deployment') as typeof import('../deployment'));

const d = (o: unknown): Deployment => o as Deployment;

/** kubectl's deployment table (pkg/printers/internalversion/printers.go printDeployment). */
export const DeploymentKind: KindInfo = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  namespaced: true,
  get schema() { return deployModule().DeploymentSchema; },
  storage: 'store',
  description: 'Rolls a pod template out through ReplicaSets: a new template replaces the old pods gradually '
    + '(or all at once), and older revisions can be rolled back to.',
  scalable: true,
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'READY', value: (o) => `${d(o).status?.readyReplicas ?? 0}/${d(o).spec?.replicas ?? 1}` },
    { name: 'UP-TO-DATE', value: (o) => String(d(o).status?.updatedReplicas ?? 0) },
    { name: 'AVAILABLE', value: (o) => String(d(o).status?.availableReplicas ?? 0) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => (d(o).spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',') },
    { name: 'IMAGES', priority: 1, value: (o) => (d(o).spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',') },
    { name: 'SELECTOR', priority: 1, value: (o) => formatSelector(d(o).spec?.selector) },
  ],
  describer: {
    related: [{
      plural: 'replicasets',
      where: (r, owner) => r.metadata.namespace === owner.metadata.namespace
        && !!r.metadata.ownerReferences?.some((x) => x.controller && x.uid === owner.metadata.uid),
    }],
    describe: (o, ctx) => describeDeployment(d(o), ctx.related[0] as ReplicaSet[], ctx.events, ctx.now),
  },
};
