/** The Lease kind as messages/ declares it: read-only, printed like `kubectl get leases`. */
import type { Lease } from '../coordination';
import type { KindInfo } from '../kind';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let coordinationModuleLoaded: typeof import('../coordination') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const coordinationModule = () => (coordinationModuleLoaded ??= require('../coordination') as typeof import('../coordination'));

/** kubectl's lease table: NAME, HOLDER, AGE. */
export const LeaseKind: KindInfo = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  namespaced: true,
  get schema() { return coordinationModule().LeaseSchema; },
  storage: 'store',
  description: 'A lock with a holder and a time limit: the control planes elect their leader on mk-system/mk-control-plane, and each node renews its own in kube-node-lease as its heartbeat.',
  readOnly: true,
  readOnlyReason: 'the control planes write them as they elect their leader and as nodes heartbeat',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'HOLDER', value: (o) => (o as Lease).spec?.holderIdentity ?? '' },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'RENEWED', priority: 1, value: (o, now) => ((o as Lease).spec?.renewTime ? age((o as Lease).spec!.renewTime, now) : '<none>') },
    { name: 'TRANSITIONS', priority: 1, value: (o) => String((o as Lease).spec?.leaseTransitions ?? 0) },
  ],
};
