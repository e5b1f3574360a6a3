/**
 * What the endpoints controller asks of a v1 Service
 * (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/): whether it
 * keeps endpoints for it, and which pods its selector takes.
 */

export type { Service, ServicePort } from '../../messages/service';
import type { Service } from '../../messages/service';

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
