/**
 * The ConfigMaps, Secrets and PersistentVolumeClaims a pod refers to: what its node may read for
 * it, like Kubernetes' node authorizer, which lets a kubelet read only the objects of the pods
 * bound to it (https://kubernetes.io/docs/reference/access-authn-authz/node/). The volumes bound
 * to those claims are read through the claims (node-api.ts).
 */
import type { Pod } from '../../messages';

/**
 * The names of the pod's ConfigMaps and Secrets (env, envFrom, imagePullSecrets and volumes; init
 * containers too) and of the claims its volumes name.
 */
export function podReferences(pod: Pod): { configmaps: Set<string>; secrets: Set<string>; persistentvolumeclaims: Set<string> } {
  const configmaps = new Set<string>();
  const secrets = new Set<string>();
  const persistentvolumeclaims = new Set<string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) configmaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef) configmaps.add(f.configMapRef.name);
      if (f.secretRef) secrets.add(f.secretRef.name);
    }
  }
  for (const s of pod.spec.imagePullSecrets ?? []) secrets.add(s.name);
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap) configmaps.add(v.configMap.name);
    if (v.secret) secrets.add(v.secret.secretName);
    if (v.persistentVolumeClaim) persistentvolumeclaims.add(v.persistentVolumeClaim.claimName);
  }
  return { configmaps, secrets, persistentvolumeclaims };
}
