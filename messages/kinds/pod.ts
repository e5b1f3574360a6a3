/** The Pod kind as messages/ declares it: schema, columns, describer. */
import type { KindInfo } from '../kind';
import type { Pod } from '../pod';
import { describePod } from '../printing/describe-pod';
import { podColumns, podIP } from '../printing/pod-status';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use: building them costs more than a whole `mk get`, which never needs them. */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let podModuleLoaded: typeof import('../pod') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const podModule = () => (podModuleLoaded ??= require('../pod') as typeof import('../pod'));

/** kubectl's pod table (pkg/printers/internalversion/printers.go printPod). */
export const PodKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  namespaced: true,
  get schema() { return podModule().PodSchema; },
  storage: 'store',
  description: 'A group of containers that share a network namespace and run on one node.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'READY', value: (o, now) => podColumns(o as Pod, now).ready },
    { name: 'STATUS', value: (o, now) => podColumns(o as Pod, now).status },
    { name: 'RESTARTS', value: (o, now) => podColumns(o as Pod, now).restarts },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'IP', priority: 1, value: (o) => podIP(o as Pod) ?? '<none>' },
    { name: 'NODE', priority: 1, value: (o) => (o as Pod).spec?.nodeName || '<none>' },
    { name: 'NOMINATED NODE', priority: 1, value: () => '<none>' },
    { name: 'READINESS GATES', priority: 1, value: () => '<none>' },
  ],
  describer: { describe: (o, ctx) => describePod(o as Pod, ctx.events, ctx.now) },
  fieldSelectors: {
    'spec.nodeName': (o) => (o as Pod).spec?.nodeName,
    'status.phase': (o) => (o as Pod).status?.phase,
  },
};
