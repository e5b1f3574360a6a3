/**
 * A pod's QoS class, apart from the pod schema so that printing a pod (`mk describe`) does not
 * build the zod schemas. messages/pod.ts re-exports it.
 */

/** What qosClass reads of a container: its requests and limits. */
interface QosContainer {
  resources?: { requests?: { cpu?: unknown; memory?: unknown }; limits?: { cpu?: unknown; memory?: unknown } };
}

/** QoS class from requests and limits (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/). */
export function qosClass(spec: { containers: QosContainer[]; initContainers?: QosContainer[] }): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...spec.containers, ...(spec.initContainers ?? [])];
  const any = all.some((c) => c.resources?.requests?.cpu !== undefined || c.resources?.requests?.memory !== undefined
    || c.resources?.limits?.cpu !== undefined || c.resources?.limits?.memory !== undefined);
  if (!any) return 'BestEffort';
  const guaranteed = all.every((c) => {
    const l = c.resources?.limits; const r = c.resources?.requests;
    return l?.cpu !== undefined && l?.memory !== undefined
      && (r?.cpu === undefined || String(r.cpu) === String(l.cpu))
      && (r?.memory === undefined || String(r.memory) === String(l.memory));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
