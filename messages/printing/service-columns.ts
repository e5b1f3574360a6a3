/**
 * How kubectl prints a Service (kubernetes/kubernetes pkg/printers/internalversion/printers.go
 * printService): its ports as `80:30080/TCP,53/UDP`, its external IP as the load balancer's
 * addresses, `<pending>`, `<none>` or the external name, its selector as `k=v,k2=v2`. Pure.
 */
import type { Service } from '../service';

/** PORT(S): `port[:nodePort]/protocol`, comma-separated; `<none>` without ports. */
export function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

/** The load balancer's addresses, IPs before host names as written. */
export function loadBalancerAddresses(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter((a) => a !== '');
}

/**
 * EXTERNAL-IP: ExternalName -> the external name; LoadBalancer -> its addresses and external
 * IPs, or `<pending>` while it has none; otherwise the external IPs, or `<none>`.
 */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ExternalName': return spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerAddresses(svc), ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    default: return external.length > 0 ? external.join(',') : '<none>';
  }
}

/** SELECTOR: `k=v,k2=v2` sorted by key, or `<none>`. */
export function serviceSelector(svc: Service): string {
  const sel = Object.entries(svc.spec?.selector ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return sel.length === 0 ? '<none>' : sel.map(([k, v]) => `${k}=${v}`).join(',');
}

/** CLUSTER-IP: the cluster IP, `None` for headless, `<none>` for ExternalName. */
export function serviceClusterIP(svc: Service): string {
  return svc.spec?.clusterIP || '<none>';
}
