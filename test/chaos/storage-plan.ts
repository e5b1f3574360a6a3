/**
 * The storage kind's plan (drawn from the round's seed) and the manifests it applies: claims of the
 * default class, a ConfigMap, a Secret, a ReplicaSet whose pod mounts the first claim, an emptyDir,
 * the ConfigMap and the Secret, and a pod for each other claim. The workload is in storage.ts.
 */
import type { Rng } from '../helpers/chaos-random';
import type { WorkloadOptions } from './kind';

/** The label every object of the workload and every pod template carries, with the round's tag as value. */
export const STORAGE_LABEL = 'chaos-storage';
/** Where the ReplicaSet's pod mounts its claim, and the marker file in it. */
export const MARKER_PATH = '/data/marker';
/** Where the ReplicaSet's pod mounts the ConfigMap, and the key read back. */
export const CONFIG_PATH = '/config/value';

/** The plan, drawn from the seed. */
export interface StoragePlan {
  makeAtMs: number;
  /** The claims; the first is the ReplicaSet's, each other one has a standalone pod. */
  claims: string[];
  replicaSet: string;
  configMap: string;
  secret: string;
  /** The marker the ReplicaSet's pod writes into its claim. */
  marker: string;
  configUpdate: { atMs: number; value: string };
  /** When the ReplicaSet's current pod is deleted. */
  deleteRsPodAtMs: number;
  /** The standalone pod (and its claim) deleted, and when. */
  deletePair: { pod: string; claim: string; atMs: number };
}

/** The standalone pod of claim `claim`. */
export const podOfClaim = (claim: string): string => `${claim}-pod`;

/**
 * Draws the plan: everything made in the first 10 % of the window; the ConfigMap changed between
 * 30 % and 60 %; the ReplicaSet's pod deleted between 40 % and 70 %; one standalone pod and its
 * claim deleted between 40 % and 85 %.
 */
export function planStorage(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs'>): StoragePlan {
  const w = o.windowMs;
  const base = `cst-${o.tag}`;
  const claims = Array.from({ length: rng.int(2, 3) }, (_, i) => `${base}-c${i}`);
  const doomed = rng.pick(claims.slice(1));
  return {
    makeAtMs: Math.round(rng.between(0, 0.1 * w)),
    claims,
    replicaSet: `${base}-rs`,
    configMap: `${base}-cm`,
    secret: `${base}-s`,
    marker: `marker-${o.tag}-${rng.int(100000, 999999)}`,
    configUpdate: { atMs: Math.round(rng.between(0.3 * w, 0.6 * w)), value: `v2-${rng.int(100000, 999999)}` },
    deleteRsPodAtMs: Math.round(rng.between(0.4 * w, 0.7 * w)),
    deletePair: { pod: podOfClaim(doomed), claim: doomed, atMs: Math.round(rng.between(0.4 * w, 0.85 * w)) },
  };
}

const label = (tag: string) => `  labels:\n    ${STORAGE_LABEL}: "${tag}"\n`;

/** A claim of the default class (no storageClassName), 64Mi, ReadWriteOnce. */
export function claimManifest(name: string, tag: string): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
${label(tag)}spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 64Mi
`;
}

/** The ConfigMap, whose key `value` the ReplicaSet's pod sees at CONFIG_PATH. */
export function configMapManifest(name: string, tag: string, value: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${label(tag)}data:
  value: "${value}"
`;
}

/** The Secret every pod mounts (a tmpfs on the node). */
export function secretManifest(name: string, tag: string): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
${label(tag)}stringData:
  token: "chaos-${tag}"
`;
}

/** The volumes and mounts of a pod: its claim at /data, an emptyDir, the Secret, and the ConfigMap when given. */
function podVolumes(indent: string, claim: string, secret: string, configMap?: string): string {
  const i = indent;
  return `${i}containers:
${i}  - name: main
${i}    image: busybox
${i}    command: ["sleep", "86400"]
${i}    volumeMounts:
${i}      - { name: data, mountPath: /data }
${i}      - { name: scratch, mountPath: /scratch }
${i}      - { name: secret, mountPath: /secret, readOnly: true }
${configMap ? `${i}      - { name: config, mountPath: /config, readOnly: true }\n` : ''}${i}volumes:
${i}  - name: data
${i}    persistentVolumeClaim: { claimName: ${claim} }
${i}  - name: scratch
${i}    emptyDir: {}
${i}  - name: secret
${i}    secret: { secretName: ${secret} }
${configMap ? `${i}  - name: config\n${i}    configMap: { name: ${configMap} }\n` : ''}`;
}

/** The ReplicaSet of one pod mounting the first claim, an emptyDir, the ConfigMap and the Secret. */
export function storageReplicaSetManifest(p: StoragePlan, tag: string): string {
  return `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ${p.replicaSet}
${label(tag)}spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${p.replicaSet}
  template:
    metadata:
      labels:
        app: ${p.replicaSet}
        ${STORAGE_LABEL}: "${tag}"
    spec:
      terminationGracePeriodSeconds: 1
${podVolumes('      ', p.claims[0], p.secret, p.configMap)}`;
}

/** A standalone pod mounting `claim`, an emptyDir and the Secret. */
export function claimPodManifest(claim: string, secret: string, tag: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${podOfClaim(claim)}
${label(tag)}spec:
  terminationGracePeriodSeconds: 1
${podVolumes('  ', claim, secret)}`;
}
