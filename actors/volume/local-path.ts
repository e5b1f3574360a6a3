/**
 * The local-path provisioner's decisions, as pure functions: for a claim, whether a volume is to be
 * made, on which node and how, or why not. They follow Rancher's local-path-provisioner (k3s's
 * built-in storage) and the wording of Kubernetes' external provisioner library
 * (sigs.k8s.io/sig-storage-lib-external-provisioner, controller.go: Provisioning,
 * ProvisioningSucceeded, ProvisioningFailed):
 *
 * - only a claim of a class whose provisioner is mk.io/local-path, not bound, naming no volume;
 * - the node is the one the scheduler chose for the claim's first pod (the claim's
 *   `volume.kubernetes.io/selected-node`): a directory lives on one node, so a class with
 *   volumeBindingMode Immediate is refused as local-path refuses it ("no node was specified"),
 *   rather than putting the volume on a node the pod may never be able to run on;
 * - only ReadWriteOnce and ReadWriteOncePod: a directory of one node cannot be shared by nodes;
 * - a claim with a selector is refused, as the external provisioner refuses it;
 * - the volume is `pvc-<claim uid>`, pre-bound to the claim (the PV controller binds the two),
 *   with the claim's size and access modes, the class's reclaim policy, node affinity to the node,
 *   and the cleanup finalizer the node agent removes once it is done with the directory.
 */
import * as path from 'node:path';
import {
  claimClass, HOSTNAME_LABEL, LOCAL_PATH_CLEANUP_FINALIZER, LOCAL_PATH_DEFAULT_BASE, LOCAL_PATH_NODE_PATH_PARAMETER,
  LOCAL_PATH_PROVISIONER, localVolumeDir, PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION,
  type Node, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import type { VolumeEvent } from './reconcile';

/** The name of the volume provisioned for a claim: `pvc-<claim uid>`, as Kubernetes names them. */
export const provisionedVolumeName = (claim: PersistentVolumeClaim): string => `pvc-${claim.metadata.uid ?? ''}`;

/** What the provisioner reads for one claim. */
export interface ProvisionInput {
  claim: PersistentVolumeClaim;
  /** The claim's class, if it exists. */
  storageClass: StorageClass | undefined;
  /** Whether the volume `pvc-<claim uid>` exists already. */
  volumeExists: boolean;
  /** The node the claim's selected-node annotation names, if that node exists. */
  node: Node | undefined;
}

/** What the provisioner does for one claim: nothing, make `volume`, or say why it cannot. */
export type ProvisionDecision =
  | { action: 'none' }
  | { action: 'provision'; volume: PersistentVolume; events: { before: VolumeEvent; after: VolumeEvent } }
  | { action: 'fail'; event: VolumeEvent };

const ONE_NODE_MODES = new Set(['ReadWriteOnce', 'ReadWriteOncePod']);

/** The external provisioner's words for a claim it works on. */
const claimName = (c: PersistentVolumeClaim): string => `${c.metadata.namespace ?? 'default'}/${c.metadata.name}`;

/**
 * The base directory of a local-path class, normalized (`//`, `/./` and a trailing `/` go, as the
 * node accepts only normal paths), or why its parameters cannot be used: `field` names the
 * parameter at fault for the class's admission. `..` is refused rather than resolved.
 */
export function localPathBase(sc: Pick<StorageClass, 'parameters'>): { base: string } | { field: string; error: string } {
  const params = sc.parameters ?? {};
  const unknown = Object.keys(params).filter((k) => k !== LOCAL_PATH_NODE_PATH_PARAMETER);
  if (unknown.length) {
    return {
      field: 'parameters',
      error: `unsupported parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')}: the ${LOCAL_PATH_PROVISIONER} provisioner takes only ${LOCAL_PATH_NODE_PATH_PARAMETER}`,
    };
  }
  const raw = params[LOCAL_PATH_NODE_PATH_PARAMETER] ?? LOCAL_PATH_DEFAULT_BASE;
  const base = path.posix.normalize(raw).replace(/\/+$/, '');
  if (!raw.startsWith('/') || raw.split('/').includes('..') || base === '') {
    return {
      field: `parameters.${LOCAL_PATH_NODE_PATH_PARAMETER}`,
      error: `parameter ${LOCAL_PATH_NODE_PATH_PARAMETER} must be an absolute directory other than / and without '..' (got "${raw}")`,
    };
  }
  return { base };
}

/**
 * The provisioner's decision for one claim (see the module comment). 'none' for a claim that is
 * not its business or is served already; 'fail' carries the ProvisioningFailed event.
 */
export function decideProvisioning(input: ProvisionInput): ProvisionDecision {
  const { claim, storageClass: sc, volumeExists, node } = input;
  if (!sc || sc.provisioner !== LOCAL_PATH_PROVISIONER) return { action: 'none' };
  if (claim.metadata.deletionTimestamp || claim.spec.volumeName || claim.status?.phase === 'Bound' || !claim.metadata.uid) return { action: 'none' };
  if (volumeExists) return { action: 'none' };
  const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  const delayed = sc.volumeBindingMode === 'WaitForFirstConsumer';
  // A delayed claim waits for the scheduler to choose its node; the PV controller says so.
  if (!selected && delayed) return { action: 'none' };
  const fail = (why: string): ProvisionDecision => ({
    action: 'fail',
    event: { type: 'Warning', reason: 'ProvisioningFailed', message: `failed to provision volume with StorageClass "${sc.metadata.name}": ${why}` },
  });
  if (!selected) {
    return fail(`configuration error, no node was specified: the ${LOCAL_PATH_PROVISIONER} provisioner makes a volume on the node of the pod `
      + 'that uses it, so its class needs volumeBindingMode: WaitForFirstConsumer');
  }
  if (claim.spec.selector) return fail('claim Selector is not supported');
  const shared = claim.spec.accessModes.filter((m) => !ONE_NODE_MODES.has(m));
  if (shared.length) {
    return fail(`access mode ${shared.join(', ')} is not supported: a local-path volume is a directory of one node, `
      + 'which supports only ReadWriteOnce and ReadWriteOncePod');
  }
  if (!node) return fail(`node "${selected}" not found`);
  const dir = localPathBase(sc);
  if ('error' in dir) return fail(dir.error);
  const ns = claim.metadata.namespace ?? 'default';
  const name = provisionedVolumeName(claim);
  const volume: PersistentVolume = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER },
      finalizers: [LOCAL_PATH_CLEANUP_FINALIZER],
    },
    spec: {
      capacity: { storage: claim.spec.resources.requests.storage },
      accessModes: [...claim.spec.accessModes],
      storageClassName: claimClass(claim),
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      volumeMode: 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: claim.metadata.name, uid: claim.metadata.uid },
      local: { path: localVolumeDir(dir.base, { uid: claim.metadata.uid, namespace: ns, name: claim.metadata.name }) },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node.metadata.name] }] }] },
      },
    },
  };
  return {
    action: 'provision',
    volume,
    events: {
      before: { type: 'Normal', reason: 'Provisioning', message: `External provisioner is provisioning volume for claim "${claimName(claim)}"` },
      after: { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${name}` },
    },
  };
}
