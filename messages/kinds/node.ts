/** The Node and Namespace kinds as messages/ declares them: schema, columns, describer. */
import type { Namespace, Node } from '../cluster';
import type { Lease } from '../coordination';
import type { KindInfo } from '../kind';
import type { Pod } from '../pod';
import { describeNamespace, describeNode, nodeRoles, nodeStatus } from '../printing/describe-node';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use: building them costs more than a whole `mk get`, which never needs them. */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let clusterModuleLoaded: typeof import('../cluster') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const clusterModule = () => (clusterModuleLoaded ??= require('../cluster') as typeof import('../cluster'));

const addr = (node: Node, type: string): string => node.status?.addresses?.find((a) => a.type === type)?.address || '<none>';

/** kubectl's node table (printNode). */
export const NodeKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  get schema() { return clusterModule().NodeSchema; },
  storage: 'store',
  description: 'A machine that runs pods: its capacity, addresses, pod CIDR and health.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'STATUS', value: (o) => nodeStatus(o as Node) },
    { name: 'ROLES', value: (o) => nodeRoles(o as Node) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'VERSION', value: (o) => (o as Node).status?.nodeInfo?.kubeletVersion || '' },
    { name: 'INTERNAL-IP', priority: 1, value: (o) => addr(o as Node, 'InternalIP') },
    { name: 'EXTERNAL-IP', priority: 1, value: (o) => addr(o as Node, 'ExternalIP') },
    { name: 'OS-IMAGE', priority: 1, value: (o) => (o as Node).status?.nodeInfo?.osImage || '<unknown>' },
    { name: 'KERNEL-VERSION', priority: 1, value: (o) => (o as Node).status?.nodeInfo?.kernelVersion || '<unknown>' },
    { name: 'CONTAINER-RUNTIME', priority: 1, value: (o) => (o as Node).status?.nodeInfo?.containerRuntimeVersion || '<unknown>' },
  ],
  describer: {
    related: [
      { plural: 'pods', where: (p, node) => (p as Pod).spec?.nodeName === node.metadata.name },
      // The node's heartbeat lease (kube-node-lease/<node>).
      { plural: 'leases', where: (l, node) => l.metadata.namespace === 'kube-node-lease' && l.metadata.name === node.metadata.name },
    ],
    describe: (o, ctx) => describeNode(o as Node, ctx.related[0] as Pod[], ctx.events, ctx.now, ctx.related[1]?.[0] as Lease | undefined),
  },
};

/** kubectl's namespace table (printNamespace). */
export const NamespaceKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  get schema() { return clusterModule().NamespaceSchema; },
  storage: 'store',
  description: 'A scope for names: namespaced objects of the same kind may share a name in different namespaces.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'STATUS', value: (o) => (o as Namespace).status?.phase ?? 'Active' },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: { describe: (o) => describeNamespace(o as Namespace) },
  fieldSelectors: { 'status.phase': (o) => (o as Namespace).status?.phase },
};
