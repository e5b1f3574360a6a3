/**
 * The ingress proxy's route table: every Ingress's rules merged into one lookup from a request's
 * host and path to a backend, with Kubernetes' matching
 * (https://kubernetes.io/docs/concepts/services-networking/ingress/#path-types): a Prefix path
 * matches by whole `/`-separated elements, ignoring a trailing slash; Exact matches the path as it
 * is; ImplementationSpecific is matched as Prefix. Of the paths that match, the longest wins, and
 * Exact beats Prefix at equal length. Hosts: an exact host's rules, else a `*.` wildcard's
 * (which matches one leading label only), else the rules without a host; the first of these that
 * has rules for the host decides alone (ingress-nginx's server block per host). Its paths match
 * nothing: the oldest Ingress's default backend, else none (404).
 * Ties between Ingresses go to the oldest (then by namespace/name). Pure: no I/O.
 */
import type { Ingress, IngressBackend } from '../../messages/ingress';

/** Where a request goes: a service port in a namespace, and which rule sent it there. */
export interface RouteTarget {
  namespace: string;
  service: string;
  /** The service port, by number or by name. */
  port: { number?: number; name?: string };
  /** `<namespace>/<ingress>` whose rule matched, for logs. */
  ingress: string;
}

export interface PathRoute {
  /** Exact: the path; Prefix: its elements joined by `/` with no trailing slash (`` for `/`). */
  path: string;
  exact: boolean;
  target: RouteTarget;
}

/** The split of a prefix path into its normalized form: `/aaa/bbb/` -> `/aaa/bbb`, `/` -> ``. */
function normalizePrefix(p: string): string {
  return p.split('/').filter((s) => s !== '').map((s) => `/${s}`).join('');
}

/** Whether the request path `req` is under the normalized prefix `prefix` by whole elements. */
function prefixMatches(prefix: string, req: string): boolean {
  if (prefix === '') return true;
  const r = normalizePrefix(req);
  return r === prefix || r.startsWith(`${prefix}/`);
}

function targetOf(b: IngressBackend | undefined, ns: string, ingress: string): RouteTarget | undefined {
  const s = b?.service;
  if (!s?.name || !s.port) return undefined;
  const port = s.port.name !== undefined ? { name: s.port.name } : { number: s.port.number };
  return { namespace: ns, service: s.name, port, ingress: `${ns}/${ingress}` };
}

/** The oldest first, then by namespace and name: the order ties are broken in. */
function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? 'default'}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** An immutable route table; build a new one for every change and swap it in. */
export class RouteTable {
  private readonly exactHosts = new Map<string, PathRoute[]>();
  /** Keyed by the wildcard's suffix without `*`: `*.foo.com` -> `.foo.com`. */
  private readonly wildcardHosts = new Map<string, PathRoute[]>();
  private readonly anyHost: PathRoute[] = [];
  private readonly fallback: RouteTarget | undefined;
  /** How many Ingresses the table was built from. */
  readonly size: number;

  constructor(ingresses: Iterable<Ingress>) {
    const sorted = [...ingresses].filter((i) => !i.metadata.deletionTimestamp).sort(byAge);
    this.size = sorted.length;
    let fallback: RouteTarget | undefined;
    for (const ing of sorted) {
      const ns = ing.metadata.namespace ?? 'default';
      fallback ??= targetOf(ing.spec?.defaultBackend, ns, ing.metadata.name);
      for (const rule of ing.spec?.rules ?? []) {
        const host = (rule.host ?? '').toLowerCase();
        const list = this.listFor(host);
        for (const p of rule.http?.paths ?? []) {
          const target = targetOf(p.backend, ns, ing.metadata.name);
          if (!target) continue;
          const exact = p.pathType === 'Exact';
          // The older Ingress's identical path stays first, so it wins the tie.
          list.push({ path: exact ? (p.path ?? '/') : normalizePrefix(p.path ?? '/'), exact, target });
        }
      }
    }
    this.fallback = fallback;
  }

  /**
   * The table's parts, for a config generator (nginx-config.ts): exact hosts' rules, wildcard
   * hosts' rules (keyed `.foo.com` for `*.foo.com`), the rules without a host, and the default
   * backend. Each list is in tie-break order (the oldest Ingress first).
   */
  parts(): { exactHosts: ReadonlyMap<string, readonly PathRoute[]>; wildcardHosts: ReadonlyMap<string, readonly PathRoute[]>; anyHost: readonly PathRoute[]; fallback: RouteTarget | undefined } {
    return { exactHosts: this.exactHosts, wildcardHosts: this.wildcardHosts, anyHost: this.anyHost, fallback: this.fallback };
  }

  private listFor(host: string): PathRoute[] {
    if (host === '') return this.anyHost;
    const [map, key] = host.startsWith('*.') ? [this.wildcardHosts, host.slice(1)] : [this.exactHosts, host];
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    return list;
  }

  /**
   * The target of a request for `hostHeader` (a port is ignored) and `rawPath` (a query is
   * ignored), or undefined when nothing matches and there is no default backend.
   */
  match(hostHeader: string | undefined, rawPath: string): RouteTarget | undefined {
    const host = stripPort((hostHeader ?? '').toLowerCase());
    const path = rawPath.split('?')[0] || '/';
    const dot = host.indexOf('.');
    const tiers = [this.exactHosts.get(host), dot > 0 ? this.wildcardHosts.get(host.slice(dot)) : undefined, this.anyHost];
    // The first tier with rules for the host decides alone, as ingress-nginx keeps a request in
    // the server block of its host: a path it lacks goes to the default backend, not to the
    // wildcard's or the host-less rules.
    const routes = tiers.find((t) => t !== undefined);
    return (routes && bestMatch(routes, path)?.target) ?? this.fallback;
  }
}

/** The longest matching path (Exact over Prefix when equally long; the first on a tie). */
export function bestMatch(routes: readonly PathRoute[], path: string): PathRoute | undefined {
  let best: PathRoute | undefined;
  for (const r of routes) {
    if (r.exact ? r.path !== path : !prefixMatches(r.path, path)) continue;
    if (!best || r.path.length > best.path.length || (r.path.length === best.path.length && r.exact && !best.exact)) best = r;
  }
  return best;
}

/** `host:port` -> `host`; `[::1]:80` -> `[::1]`. */
function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const i = host.lastIndexOf(':');
  return i >= 0 ? host.slice(0, i) : host;
}
