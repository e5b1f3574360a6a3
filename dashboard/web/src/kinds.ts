/**
 * Kinds as the page names them. Actors name the object they keep by its Kind (`Pod`) or plural;
 * routes use the plural. The server resolves any of plural, singular, short name or Kind, so a
 * kind the page does not know still works; this table only makes links and menus tidy. Pure.
 */

/** The kinds offered in the Objects view's menu (any other the cluster serves can be typed). */
export const MENU_KINDS = ['pods', 'nodes', 'namespaces', 'events', 'leases'];

const IRREGULAR: Record<string, string> = {
  endpoints: 'endpoints',
  ingress: 'ingresses',
  horizontalpodautoscaler: 'horizontalpodautoscalers',
};

/** The plural of a kind given by Kind, singular or plural (`Pod` -> `pods`). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (IRREGULAR[k]) return IRREGULAR[k];
  if (k.endsWith('s')) return k;
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/** Kinds whose objects have spec.replicas (the page offers scale for them). */
export function isScalable(plural: string): boolean {
  return ['replicasets', 'deployments', 'statefulsets'].includes(plural);
}
