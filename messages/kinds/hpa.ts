/** The HorizontalPodAutoscaler kind as messages/ declares it: schema and kubectl's columns. */
import type { HorizontalPodAutoscaler } from '../hpa';
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { describeHpa, hpaReference, hpaTargets } from '../printing/describe-hpa';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/pod.ts). */
let hpaModuleLoaded: typeof import('../hpa') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const hpaModule = () => (hpaModuleLoaded ??= require('../hpa') as typeof import('../hpa'));

const h = (o: KubeObject): HorizontalPodAutoscaler => o as unknown as HorizontalPodAutoscaler;

/** kubectl's hpa table (pkg/printers/internalversion/printers.go printHorizontalPodAutoscaler). */
export const HorizontalPodAutoscalerKind: KindInfo = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  namespaced: true,
  get schema() { return hpaModule().HorizontalPodAutoscalerSchema; },
  storage: 'store',
  description: "Scales a Deployment, a ReplicaSet or another kind with spec.replicas between a minimum and a maximum, so that the pods' "
    + 'mean cpu or memory usage stays near a target (a percentage of their requests, or a quantity per pod).',
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'REFERENCE', value: (o) => hpaReference(h(o)) },
    { name: 'TARGETS', value: (o) => hpaTargets(h(o)) },
    { name: 'MINPODS', value: (o) => String(h(o).spec?.minReplicas ?? 1) },
    { name: 'MAXPODS', value: (o) => String(h(o).spec?.maxReplicas ?? '') },
    { name: 'REPLICAS', value: (o) => String(h(o).status?.currentReplicas ?? 0) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: { describe: (o, ctx) => describeHpa(h(o), ctx.events, ctx.now) },
};
