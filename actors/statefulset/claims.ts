/**
 * The claims a StatefulSet's volumeClaimTemplates give each replica, as pure functions (after
 * Kubernetes' pkg/controller/statefulset/stateful_set_utils.go and KEP-1847,
 * https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#persistentvolumeclaim-retention):
 * their names, labels, the volumes a pod mounts them by, and the owner references that carry the
 * retention policy (the garbage collector deletes a claim once every owner is gone).
 * The controller (controller.ts) makes a replica's missing claims before its pod and keeps their
 * owner references in line with the policy.
 */
import type { OwnerReference, PersistentVolumeClaim, Pod, StatefulSet, VolumeClaimTemplate } from '../../messages';
import { ordinalOf, ordinalRange, statefulPodName } from './reconcile';

/** A claim as the set would make it: the shape of a v1 PersistentVolumeClaim. */
export interface StatefulClaim {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec: VolumeClaimTemplate['spec'];
}

/** A pod volume that mounts a claim. */
export interface ClaimVolume { name: string; persistentVolumeClaim: { claimName: string } }

/** The claim of `template` for the replica `ordinal`: `<template>-<set>-<ordinal>`. */
export function claimName(template: string, set: string, ordinal: number): string {
  return `${template}-${set}-${ordinal}`;
}

/** The volumes the pod of `ordinal` mounts its claims by, one per template, named as the template. */
export function claimVolumes(sts: StatefulSet, ordinal: number): ClaimVolume[] {
  return (sts.spec.volumeClaimTemplates ?? []).map((t) => ({
    name: t.metadata.name,
    persistentVolumeClaim: { claimName: claimName(t.metadata.name, sts.metadata.name, ordinal) },
  }));
}

/** The reference a set writes into a claim it owns (not a controller reference, as Kubernetes writes it). */
function setOwner(sts: StatefulSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid! };
}

/** The reference a pod gets in the claims of a condemned replica. */
function podOwner(pod: Pod): OwnerReference {
  return { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid! };
}

/**
 * The owner references the retention policy asks a claim of replica `ordinal` to carry:
 * whenDeleted Delete makes the set an owner (the claim goes with the set); whenScaled Delete makes
 * the pod an owner when its ordinal is outside the set's range (the claim goes with the replica a
 * scale-down removes). Retain (the default) adds neither.
 */
export function claimOwnerRefs(sts: StatefulSet, ordinal: number, pod: Pod | undefined): OwnerReference[] {
  const policy = sts.spec.persistentVolumeClaimRetentionPolicy;
  const out: OwnerReference[] = [];
  if (policy?.whenDeleted === 'Delete') out.push(setOwner(sts));
  const { start, end } = ordinalRange(sts);
  const condemned = ordinal < start || ordinal >= end;
  if (policy?.whenScaled === 'Delete' && condemned && pod?.metadata.uid && pod.metadata.name === statefulPodName(sts, ordinal)) {
    out.push(podOwner(pod));
  }
  return out;
}

/**
 * The claim of `template` for replica `ordinal`: the template's labels with the set's selector
 * labels over them (so the set's selector finds its claims), its annotations and spec, and the
 * owner references of the retention policy.
 */
export function desiredClaim(sts: StatefulSet, template: VolumeClaimTemplate, ordinal: number, pod?: Pod): StatefulClaim {
  const metadata: StatefulClaim['metadata'] = {
    name: claimName(template.metadata.name, sts.metadata.name, ordinal),
    namespace: sts.metadata.namespace,
    labels: { ...(template.metadata.labels ?? {}), ...(sts.spec.selector.matchLabels ?? {}) },
  };
  if (template.metadata.annotations) metadata.annotations = { ...template.metadata.annotations };
  const refs = claimOwnerRefs(sts, ordinal, pod);
  if (refs.length > 0) metadata.ownerReferences = refs;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: structuredClone(template.spec) };
}

/**
 * An existing claim with its owner references brought in line with the policy (Kubernetes'
 * updateClaimOwnerRefForSetAndPod): references to the set and to the replica's pods are replaced by
 * what claimOwnerRefs asks, others are kept. Null when nothing changes.
 */
export function retainedClaim<C extends { metadata: { name?: string; ownerReferences?: OwnerReference[] } }>(
  claim: C, sts: StatefulSet, ordinal: number, pod: Pod | undefined,
): C | null {
  const podName = statefulPodName(sts, ordinal);
  const have = claim.metadata.ownerReferences ?? [];
  const ours = (r: OwnerReference) => (r.kind === 'StatefulSet' && r.uid === sts.metadata.uid) || (r.kind === 'Pod' && r.name === podName);
  const next = [...have.filter((r) => !ours(r)), ...claimOwnerRefs(sts, ordinal, pod)];
  const key = (refs: OwnerReference[]) => refs.map((r) => `${r.kind}/${r.uid}`).sort().join(',');
  if (key(next) === key(have)) return null;
  const metadata: C['metadata'] = { ...claim.metadata };
  if (next.length > 0) metadata.ownerReferences = next;
  else delete metadata.ownerReferences;
  return { ...claim, metadata };
}

/**
 * The pod with its claims mounted (Kubernetes' updateStorage): one volume per template, named as
 * the template, first, then the template's own volumes except any of the same name, which the
 * claim replaces.
 */
export function withClaimVolumes(sts: StatefulSet, pod: Pod, ordinal: number): Pod {
  const claims = claimVolumes(sts, ordinal);
  if (claims.length === 0) return pod;
  const names = new Set(claims.map((c) => c.name));
  const rest = (pod.spec.volumes ?? []).filter((v) => !names.has(v.name));
  return { ...pod, spec: { ...pod.spec, volumes: [...claims, ...rest] } };
}

/** What making the pod of one ordinal asks of its claims. */
export interface NewReplicaClaims {
  /** The missing claims, to make before the pod. */
  create: StatefulClaim[];
  /**
   * Why the pod cannot be made yet. `failed` is Kubernetes' error for a claim being deleted (the
   * set reports it as a failed pod creation); otherwise the pod waits without an error for a claim
   * that a former pod of that name still owns, and that goes with it (Kubernetes' PodClaimIsStale).
   */
  blocked?: { message: string; failed: boolean };
}

/** True when a Pod owner of `claim` is named `podName` but is not `uid` (an earlier pod of that name). */
function ownedByFormerPod(claim: PersistentVolumeClaim, podName: string, uid: string | undefined): boolean {
  return (claim.metadata.ownerReferences ?? []).some((r) => r.kind === 'Pod' && r.name === podName && r.uid !== uid);
}

/**
 * The claims the replica `ordinal` needs before its pod is made (Kubernetes'
 * createPersistentVolumeClaims): each missing one is made from its template; an existing one is
 * used as it is, unless it is being deleted (the pod waits, as a failure) or, under whenScaled
 * Delete, still belongs to a former pod of the same name (the pod waits for it to go). `existing`
 * maps the namespace's claims by name.
 */
export function claimsForNewReplica(sts: StatefulSet, ordinal: number, existing: ReadonlyMap<string, PersistentVolumeClaim>): NewReplicaClaims {
  const out: NewReplicaClaims = { create: [] };
  const podName = statefulPodName(sts, ordinal);
  const scaledDelete = sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete';
  for (const t of sts.spec.volumeClaimTemplates ?? []) {
    const name = claimName(t.metadata.name, sts.metadata.name, ordinal);
    const have = existing.get(name);
    if (!have) out.create.push(desiredClaim(sts, t, ordinal));
    else if (have.metadata.deletionTimestamp) out.blocked ??= { message: `pvc ${name} is being deleted`, failed: true };
    else if (scaledDelete && ownedByFormerPod(have, podName, undefined)) {
      out.blocked ??= { message: `pvc ${name} still belongs to a former pod ${podName} and goes with it`, failed: false };
    }
  }
  return out;
}

/**
 * The existing claims of the set's pods whose owner references the retention policy wants changed
 * (Kubernetes' ClaimsMatchRetentionPolicy and UpdatePodClaimForRetentionPolicy), as the updated
 * claims to write. Only the claims of pods that exist are looked at, and none being deleted; a set
 * being deleted changes nothing.
 */
export function claimsToRetain(sts: StatefulSet, pods: readonly Pod[], existing: ReadonlyMap<string, PersistentVolumeClaim>): PersistentVolumeClaim[] {
  if (sts.metadata.deletionTimestamp) return [];
  const out: PersistentVolumeClaim[] = [];
  for (const pod of pods) {
    const ordinal = ordinalOf(sts, pod);
    if (ordinal === undefined) continue;
    for (const t of sts.spec.volumeClaimTemplates ?? []) {
      const claim = existing.get(claimName(t.metadata.name, sts.metadata.name, ordinal));
      if (!claim || claim.metadata.deletionTimestamp) continue;
      const next = retainedClaim(claim, sts, ordinal, pod);
      if (next) out.push(next);
    }
  }
  return out;
}

/**
 * The claims missing under the set's Pending pods in its range, to make again (Kubernetes'
 * createMissingPersistentVolumeClaims for a pending pod): a claim deleted before its pod started
 * comes back, and the pod can start. A set being deleted makes none.
 */
export function missingClaimsOfPending(
  sts: StatefulSet, pods: readonly Pod[], existing: ReadonlyMap<string, PersistentVolumeClaim>,
): { podName: string; claim: StatefulClaim }[] {
  if (sts.metadata.deletionTimestamp) return [];
  const { start, end } = ordinalRange(sts);
  const out: { podName: string; claim: StatefulClaim }[] = [];
  for (const pod of pods) {
    const ordinal = ordinalOf(sts, pod);
    const pending = (pod.status?.phase ?? 'Pending') === 'Pending' && !pod.metadata.deletionTimestamp;
    if (ordinal === undefined || ordinal < start || ordinal >= end || !pending) continue;
    for (const claim of claimsForNewReplica(sts, ordinal, existing).create) out.push({ podName: pod.metadata.name, claim });
  }
  return out;
}
