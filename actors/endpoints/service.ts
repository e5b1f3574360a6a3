/**
 * The fields of a v1 Service the endpoints controller reads, under Kubernetes' own names
 * (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/). The
 * controller reads Services from the store (`services.<namespace>.<name>`) through this small
 * type only, so it depends on nothing else of the Service kind.
 */
import type { ObjectMeta } from '../../messages';

/** One port of a Service: targetPort is a number or the name of a container port. */
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** A Service as the endpoints controller sees it. */
export interface Service {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
}

/** The plural of Services' keys in the store. */
export const SERVICES = 'services';

/**
 * The selector the controller keeps endpoints for, or undefined for a service it leaves alone:
 * one without a selector (an empty one counts as none, as Kubernetes drops it) or of type
 * ExternalName, whose endpoints, if any, its users write.
 */
export function managedSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  if (svc.spec?.type === 'ExternalName' || !sel || Object.keys(sel).length === 0) return undefined;
  return sel;
}

/** True when every pair of `selector` is among `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}
