/**
 * `mk describe ingress` in the shape of kubectl's IngressDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeIngressV1): address, class, default backend, TLS, the rules
 * as a Host/Path/Backends table with each service's ready endpoints, annotations and events.
 */
import type { Ingress, IngressBackend } from '../ingress';
import type { KubeObject } from '../meta';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

/** The fields of a Service and an EndpointSlice the backends column reads (Kubernetes' names). */
interface ServiceLike { metadata: { name: string }; spec?: { ports?: { name?: string; port: number }[] } }
interface SliceLike {
  metadata: { labels?: Record<string, string> };
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number }[];
}

/** A backend as kubectl prints it: `svc:80`, `svc:http`. */
export function formatBackend(b: IngressBackend | undefined): string {
  const s = b?.service;
  if (!s) return '<none>';
  return `${s.name}:${s.port?.name ?? s.port?.number ?? ''}`;
}

/** `svc:80 (10.244.1.5:8080,10.244.2.3:8080)` as kubectl prints a backend with its endpoints. */
function backendText(b: IngressBackend | undefined, services: ServiceLike[], slices: SliceLike[]): string {
  const s = b?.service;
  if (!s) return '<default>';
  const head = formatBackend(b);
  const svc = services.find((x) => x.metadata.name === s.name);
  if (!svc) return `${head} (<error: services "${s.name}" not found>)`;
  const port = svc.spec?.ports?.find((p) => (s.port?.name !== undefined ? p.name === s.port.name : p.port === s.port?.number));
  if (!port) return `${head} (<error: the service has no port ${s.port?.name ?? s.port?.number}>)`;
  const addrs: string[] = [];
  for (const sl of slices) {
    if (sl.metadata.labels?.['kubernetes.io/service-name'] !== s.name) continue;
    const target = sl.ports?.find((p) => (p.name ?? '') === (port.name ?? ''))?.port;
    if (target === undefined) continue;
    for (const e of sl.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses) addrs.push(`${a}:${target}`);
    }
  }
  return `${head} (${addrs.join(',')})`;
}

/** Describes `ing`; `services` and `slices` are those of its namespace, `events` its events. */
export function describeIngress(
  ing: Ingress, services: KubeObject[], slices: KubeObject[], events: EventLike[] | undefined, now: number = Date.now(),
): string {
  const svcs = services as unknown as ServiceLike[];
  const sls = slices as unknown as SliceLike[];
  const w = new DescribeWriter();
  const md = ing.metadata;
  w.write(0, `Name:\t${md.name}\n`);
  writeLabels(w, 'Labels', md.labels);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  const addrs = (ing.status?.loadBalancer?.ingress ?? []).map((a) => a.ip ?? a.hostname ?? '').filter(Boolean);
  w.write(0, `Address:\t${addrs.join(',')}\n`);
  w.write(0, `Ingress Class:\t${ing.spec?.ingressClassName ?? '<none>'}\n`);
  w.write(0, `Default backend:\t${ing.spec?.defaultBackend ? backendText(ing.spec.defaultBackend, svcs, sls) : '<default>'}\n`);
  const tls = ing.spec?.tls ?? [];
  if (tls.length > 0) {
    w.write(0, 'TLS:\n');
    for (const t of tls) {
      w.write(1, `${t.secretName ?? 'SNI routes'} terminates ${(t.hosts ?? []).join(',')}\n`);
    }
  }
  w.write(0, 'Rules:\n');
  w.write(1, 'Host\tPath\tBackends\n');
  w.write(1, '----\t----\t--------\n');
  const rules = ing.spec?.rules ?? [];
  for (const r of rules) {
    w.write(1, `${r.host || '*'}\t\t\n`);
    for (const p of r.http?.paths ?? []) w.write(1, `\t${p.path ?? ''}\t${backendText(p.backend, svcs, sls)}\n`);
  }
  if (rules.length === 0) w.write(1, `*\t*\t${backendText(ing.spec?.defaultBackend, svcs, sls)}\n`);
  writeAnnotations(w, 'Annotations', md.annotations);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
