/**
 * The ConfigMaps and Secrets a pod refers to: what its node may read for it, like Kubernetes'
 * node authorizer, which lets a kubelet read only the objects of the pods bound to it
 * (https://kubernetes.io/docs/reference/access-authn-authz/node/).
 */
import type { Pod } from '../../messages';

/** What the pod's volumes name (configMap and secret sources), read without the volume schema's types. */
interface VolumeRefs { configMap?: { name?: string }; secret?: { secretName?: string } }

/** The names of the pod's ConfigMaps and Secrets (env, envFrom, imagePullSecrets and volumes; init containers too). */
export function podReferences(pod: Pod): { configmaps: Set<string>; secrets: Set<string> } {
  const configmaps = new Set<string>();
  const secrets = new Set<string>();
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
  for (const v of (pod.spec as { volumes?: VolumeRefs[] }).volumes ?? []) {
    if (v.configMap?.name) configmaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
  }
  return { configmaps, secrets };
}
