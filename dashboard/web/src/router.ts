/**
 * The page's routes live in the URL's hash, so every view has a link and Back works:
 *
 *   #/actors?process=cp-a&q=pod&sort=mailbox&page=2&system=1
 *   #/actor/<process>/<path>            one actor (path URI-encoded)
 *   #/objects/<plural>?ns=default&l=app%3Dweb&page=0
 *   #/object/<plural>/<namespace>/<name>  (`-` for a cluster-scoped kind's namespace)
 *   #/nodes   #/usage   #/lag
 *   #/subject?s=mk.events.%3E          a raw NATS subject, live
 *
 * Any route may carry `at=<ISO time>`: the time scrubber's moment, shown as the past. Pure: no DOM.
 */

/** How the actor table may be ordered (the server's sort keys). */
export type ActorSort = 'path' | 'mailbox' | 'rate' | 'p99' | 'restarts';
const SORTS: readonly ActorSort[] = ['path', 'mailbox', 'rate', 'p99', 'restarts'];

/** A parsed route. */
export type Route =
  | { view: 'actors'; process?: string; search?: string; sort: ActorSort; page: number; showSystem: boolean; at?: string }
  | { view: 'actor'; process: string; path: string; at?: string }
  | { view: 'objects'; plural: string; namespace?: string; labels?: string; page: number; at?: string }
  | { view: 'object'; plural: string; namespace?: string; name: string; at?: string }
  | { view: 'nodes'; at?: string }
  | { view: 'usage'; at?: string }
  | { view: 'lag'; at?: string }
  | { view: 'subject'; subject?: string; at?: string };

/** The route of an empty hash. */
export const HOME: Route = { view: 'actors', sort: 'path', page: 0, showSystem: false };

const CLUSTER_NS = '-';

function pageOf(v: string | null): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function atOf(q: URLSearchParams): { at?: string } {
  const at = q.get('at');
  return at && !Number.isNaN(Date.parse(at)) ? { at } : {};
}

function opt(v: string | null): string | undefined {
  return v === null || v === '' ? undefined : v;
}

/** Parses `location.hash`; anything unknown is the home route. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const pathPart = qi < 0 ? raw : raw.slice(0, qi);
  const q = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  let segs: string[];
  try {
    segs = pathPart.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return HOME;
  }
  const at = atOf(q);
  switch (segs[0]) {
    case 'actors': {
      const sort = q.get('sort') as ActorSort | null;
      return {
        view: 'actors', process: opt(q.get('process')), search: opt(q.get('q')),
        sort: sort && SORTS.includes(sort) ? sort : 'path', page: pageOf(q.get('page')), showSystem: q.get('system') === '1', ...at,
      };
    }
    case 'actor':
      if (segs.length >= 3) return { view: 'actor', process: segs[1], path: segs.slice(2).join('/'), ...at };
      return HOME;
    case 'objects':
      if (segs[1]) return { view: 'objects', plural: segs[1], namespace: opt(q.get('ns')), labels: opt(q.get('l')), page: pageOf(q.get('page')), ...at };
      return { view: 'objects', plural: 'pods', page: 0, ...at };
    case 'object':
      if (segs.length === 4) return { view: 'object', plural: segs[1], namespace: segs[2] === CLUSTER_NS ? undefined : segs[2], name: segs[3], ...at };
      return HOME;
    case 'nodes': case 'usage': case 'lag':
      return { view: segs[0], ...at };
    case 'subject':
      return { view: 'subject', subject: opt(q.get('s')), ...at };
    default:
      return { ...HOME, ...at };
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The hash of a route (`#/...`); parseRoute(formatRoute(r)) equals r. */
export function formatRoute(r: Route): string {
  switch (r.view) {
    case 'actors':
      return `#/actors${query({ process: r.process, q: r.search, sort: r.sort === 'path' ? undefined : r.sort, page: r.page || undefined, system: r.showSystem ? 1 : undefined, at: r.at })}`;
    case 'actor':
      return `#/actor/${encodeURIComponent(r.process)}/${encodeURIComponent(r.path)}${query({ at: r.at })}`;
    case 'objects':
      return `#/objects/${encodeURIComponent(r.plural)}${query({ ns: r.namespace, l: r.labels, page: r.page || undefined, at: r.at })}`;
    case 'object':
      return `#/object/${encodeURIComponent(r.plural)}/${encodeURIComponent(r.namespace ?? CLUSTER_NS)}/${encodeURIComponent(r.name)}${query({ at: r.at })}`;
    case 'subject':
      return `#/subject${query({ s: r.subject, at: r.at })}`;
    default:
      return `#/${r.view}${query({ at: r.at })}`;
  }
}

/** The link to an object's page, from its kind's plural, namespace and name. */
export function objectHref(plural: string, namespace: string | undefined, name: string, at?: string): string {
  return formatRoute({ view: 'object', plural, namespace, name, at });
}

/** The link to an actor's page. */
export function actorHref(process: string, path: string, at?: string): string {
  return formatRoute({ view: 'actor', process, path, at });
}
