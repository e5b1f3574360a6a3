/**
 * The route table (routes.ts) and the ready endpoints of each backend as an nginx.conf, so that
 * nginx routes as the in-process proxy does (Kubernetes' matching, not nginx's defaults):
 * - hosts: one server block per rule host: an exact host by its name, a `*.foo.com` wildcard by
 *   a regex that takes exactly one leading label (nginx's own `*.foo.com` would take several),
 *   and the rules without a host in the default server. nginx picks an exact name before a regex
 *   and a regex before the default server, the tiers of routes.ts; a request stays in its server.
 * - paths: Exact `/p` is `location = /p`; Prefix `/p` (by whole elements) is `location = /p` and
 *   `location ^~ /p/`, Prefix `/` is `location ^~ /`. nginx takes the `=` location first, else the
 *   longest prefix: the longest path wins and Exact beats Prefix at equal length. Where two rules
 *   make the same location the one routes.ts would pick is kept (Exact first, then the oldest).
 * - what no path matches: the default backend, else 404 with the in-process proxy's text; a
 *   backend with no ready endpoints (or no such service) is 503 with the reason.
 * - one upstream per service port with its ready endpoints, kept-alive HTTP/1.1 connections, the
 *   Host header as the client sent it, X-Forwarded-For/-Host/-Proto as proxy.ts sets them,
 *   websocket upgrades passed through, bodies streamed both ways (no buffering to disk).
 * Names and paths come from users: only those of a plain character set reach the config (no
 * quote, `;`, brace, `$`, backslash, space or control character, also not percent-encoded); a
 * rule with another is left out and named in `skipped`. Pure: no I/O.
 */
import type { NoEndpoints, Upstream } from './endpoints';
import { bestMatch, type PathRoute, type RouteTable, type RouteTarget } from './routes';

/** What the config is made from. */
export interface NginxConfigInput {
  routes: RouteTable;
  /** The ready endpoints of a target, or why there are none (endpoints.ts readyUpstreams). */
  upstreams: (target: RouteTarget) => Upstream[] | NoEndpoints;
  /** nginx's prefix directory: pid file, error log and temp paths live under it. */
  dir: string;
  /** The IPv4 address to listen on (default 0.0.0.0). */
  host?: string;
  port: number;
  /** worker_processes: a count, or `auto` for one per CPU (default 1). */
  workers?: number | 'auto';
  /** Log every request to `<dir>/access.log` (default off). */
  accessLog?: boolean;
  /** How long an upstream may stay silent before 504 (default 60 s). */
  upstreamTimeoutMs?: number;
  /** How long connecting to an endpoint may take (default 5 s). */
  connectTimeoutMs?: number;
}

/** The config's text, and the rules left out of it with the reason. */
export interface NginxConfig {
  text: string;
  skipped: string[];
}

/** The in-process proxy's answer when no rule matches (proxy.ts). */
export const NO_RULE_TEXT = 'no ingress rule matches this host and path';

/**
 * A path nginx may see: RFC 3986 path characters less `;`, `$`, `'` (so no quote or brace), and
 * percent-encodings in upper case.
 */
const SAFE_PATH = /^\/([A-Za-z0-9\-._~!&()*+,=:@/]|%[0-9A-F]{2})*$/;

/**
 * The name of a rule path in an nginx location, or undefined when it is left out. nginx matches
 * the request path decoded, the in-process proxy with only unreserved characters decoded
 * (request-path.ts): `/a%20b` matches the request `/a%20b` there, so its location is `/a b`.
 * An encoding of an unreserved character, `/`, a quote, `\`, `$`, `;`, a brace or a control
 * character (which the in-process proxy never matches, or which cannot be written) leaves the
 * rule out, as does one that is not UTF-8.
 */
export function locationName(p: string): string | undefined {
  if (!SAFE_PATH.test(p)) return undefined;
  if (!p.includes('%')) return p;
  for (const m of p.matchAll(/%([0-9A-F]{2})/g)) {
    const c = parseInt(m[1], 16);
    // eslint-disable-next-line no-control-regex
    if (c < 0x80 && /[A-Za-z0-9\-._~/"\\$;{}\x00-\x1f\x7f]/.test(String.fromCharCode(c))) return undefined;
  }
  try {
    return decodeURIComponent(p);
  } catch {
    return undefined;
  }
}
/** A lower-case DNS name (the host is lower-cased by routes.ts). */
const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
/** A namespace, service or port name (DNS labels and subdomains). */
const NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** A directory path for the config: no quote, space, `;`, `$`, brace or control character. */
const SAFE_DIR = /^\/[A-Za-z0-9\-._~+,=:@/]*$/;

/**
 * `s` as an nginx double-quoted string. Only what the checks above let through and the texts
 * made here reach it; a `"` (in a 503's reason) is escaped, anything able to end a directive or
 * start a variable is refused, so a mistake here fails loudly instead of writing a bad config.
 */
export function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\\$;{}\x00-\x1f\x7f]/.test(s)) throw new Error(`refusing to write ${JSON.stringify(s)} into the nginx config`);
  return `"${s.replace(/"/g, '\\"')}"`;
}

/** The name of a target's upstream block, or undefined when its names are not plain. */
function upstreamName(t: RouteTarget): string | undefined {
  const port = t.port.name ?? String(t.port.number ?? '');
  if (!NAME.test(t.namespace) || !NAME.test(t.service) || !NAME.test(port)) return undefined;
  return `mk_${t.namespace}_${t.service}_${port}`;
}

/** How a location answers: proxied to an upstream, or a fixed answer. */
type Action = { upstream: string } | { code: number; text: string };

interface Location { key: string; exact: boolean; action: Action }

/** Builds the config; throws only on a bad `dir`, `host` or `port` (the node agent's own settings). */
export function nginxConfig(input: NginxConfigInput): NginxConfig {
  const { dir } = input;
  const host = input.host ?? '0.0.0.0';
  if (!SAFE_DIR.test(dir)) throw new Error(`nginx directory "${dir}" must be an absolute path of letters, digits and -._~+,=:@/`);
  if (!IPV4.test(host)) throw new Error(`ingress address "${host}" is not an IPv4 address`);
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new Error(`ingress port ${input.port} is not between 1 and 65535`);
  const workers = input.workers ?? 1;
  if (workers !== 'auto' && (!Number.isInteger(workers) || workers < 1)) throw new Error(`nginx workers ${workers} is not a positive count`);

  const skipped: string[] = [];
  const upstreams = new Map<string, Upstream[]>();
  const actions = new Map<string, Action | undefined>();
  /** The action for a target: its upstream (made once), a 503, or undefined when its names are not plain. */
  const actionOf = (t: RouteTarget): Action | undefined => {
    const key = `${t.namespace}/${t.service}:${t.port.name ?? t.port.number}`;
    if (actions.has(key)) return actions.get(key);
    let action: Action | undefined;
    const name = upstreamName(t);
    if (!name) {
      skipped.push(`${t.ingress}: backend ${JSON.stringify(key)} is not a plain service name and port`);
    } else {
      const ups = input.upstreams(t);
      if (!Array.isArray(ups)) action = { code: 503, text: ups.reason };
      else {
        const good = ups.filter((u) => IPV4.test(u.host) && Number.isInteger(u.port) && u.port > 0 && u.port < 65536);
        if (good.length === 0) action = { code: 503, text: `service "${t.namespace}/${t.service}" has no ready endpoints` };
        else {
          upstreams.set(name, good);
          action = { upstream: name };
        }
      }
    }
    actions.set(key, action);
    return action;
  };

  const parts = input.routes.parts();
  const fallback: Action = (parts.fallback && actionOf(parts.fallback)) ?? { code: 404, text: NO_RULE_TEXT };

  /** The locations of one server's routes, one per nginx location (routes.ts's winner kept). */
  const locationsOf = (routes: readonly PathRoute[], where: string): Location[] => {
    const byKey = new Map<string, Location>();
    const put = (key: string, exact: boolean, action: Action) => {
      const had = byKey.get(key);
      if (!had || (exact && !had.exact)) byKey.set(key, { key, exact, action });
    };
    for (const r of routes) {
      if (locationName(r.path || '/') === undefined) {
        skipped.push(`${r.target.ingress}: path ${JSON.stringify(r.path)} of ${where} has characters mk's nginx config leaves out`);
        continue;
      }
      const action = actionOf(r.target);
      if (!action) continue;
      if (r.exact) put(`= ${r.path}`, true, action);
      else if (r.path === '') put('^~ /', false, action);
      else {
        put(`= ${r.path}`, false, action);
        put(`^~ ${r.path}/`, false, action);
      }
    }
    if (!byKey.has('^~ /')) byKey.set('^~ /', { key: '^~ /', exact: false, action: fallback });
    // nginx answers `/p` with a redirect to `/p/` when only a proxied `/p/` location exists
    // (Exact `/p/`): `/p` gets a location of its own, with what routes.ts sends it to.
    for (const l of [...byKey.values()]) {
      const p = l.key.slice(l.key.indexOf(' ') + 1);
      if (p === '/' || !p.endsWith('/') || byKey.has(`= ${p.slice(0, -1)}`)) continue;
      const best = bestMatch(routes, p.slice(0, -1));
      const action = (best && locationName(best.path || '/') !== undefined && actionOf(best.target)) || fallback;
      byKey.set(`= ${p.slice(0, -1)}`, { key: `= ${p.slice(0, -1)}`, exact: true, action });
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };

  const listen = `${host}:${input.port}`;
  const servers: string[] = [];
  const server = (names: string | undefined, routes: readonly PathRoute[], where: string): void => {
    const lines = [
      '  server {',
      names === undefined ? `    listen ${listen} default_server;` : `    listen ${listen};`,
      ...(names === undefined ? [] : [`    server_name ${names};`]),
      '    error_page 502 @mk_502;',
      '    error_page 504 @mk_504;',
      `    location @mk_502 { ${fixed(502, 'upstream failed')} }`,
      `    location @mk_504 { ${fixed(504, 'upstream timed out')} }`,
    ];
    for (const l of locationsOf(routes, where)) {
      const [mod, p] = l.key.split(' ');
      // A URI on proxy_pass: nginx sends the path it matched (normalised: `/a/../b` is `/b`,
      // re-escaped), as proxy.ts does, never the client's raw one.
      const body = 'upstream' in l.action ? `proxy_pass ${quote(`http://${l.action.upstream}${p}`)};` : fixed(l.action.code, l.action.text);
      // The key is the path as the rule has it (encoded); nginx's location names it decoded.
      lines.push(`    location ${mod} ${quote(locationName(p)!)} { ${body} }`);
    }
    lines.push('  }');
    servers.push(lines.join('\n'));
  };

  server(undefined, parts.anyHost, 'the rules without a host');
  for (const [h, routes] of [...parts.exactHosts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!DNS_NAME.test(h)) skipped.push(`host ${JSON.stringify(h)} is not a DNS name: its rules are left out`);
    else server(quote(h), routes, `host ${h}`);
  }
  for (const [suffix, routes] of [...parts.wildcardHosts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const base = suffix.slice(1);
    if (!DNS_NAME.test(base)) skipped.push(`host ${JSON.stringify(`*${suffix}`)} is not a wildcard DNS name: its rules are left out`);
    // A regex (checked DNS name, dots escaped): `\` and `$` are the regex's own, never a user's.
    else server(`"~^[^.]+\\.${base.replace(/\./g, '\\.')}$"`, routes, `host *${suffix}`);
  }

  const ups = [...upstreams].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => [
    `  upstream ${name} {`,
    ...list.map((u) => `    server ${u.host}:${u.port} max_fails=0;`),
    '    keepalive 64;',
    '  }',
  ].join('\n'));

  const ms = (v: number | undefined, d: number) => `${Math.max(1, Math.round(v ?? d))}ms`;
  const text = [
    '# Written by mk\'s node agent from the cluster\'s Ingresses; rewritten on every change.',
    `worker_processes ${workers};`,
    'daemon off;',
    'worker_shutdown_timeout 240s;',
    `pid ${quote(`${dir}/nginx.pid`)};`,
    `error_log ${quote(`${dir}/error.log`)} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    input.accessLog ? `  access_log ${quote(`${dir}/access.log`)};` : '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${quote(`${dir}/tmp/${t}`)};`),
    '  server_tokens off;',
    // A host name may have 253 characters: a bucket of 512 holds the longest (128 refuses one of
    // about 120 and with it every later config). Old workers draining long connections (a
    // websocket) after a reload are closed after 4 minutes, so frequent reloads cannot pile them up.
    '  server_names_hash_bucket_size 512;',
    '  client_max_body_size 0;',
    '  proxy_buffering off;',
    '  proxy_request_buffering off;',
    '  proxy_http_version 1.1;',
    `  proxy_connect_timeout ${ms(input.connectTimeoutMs, 5000)};`,
    `  proxy_read_timeout ${ms(input.upstreamTimeoutMs, 60_000)};`,
    `  proxy_send_timeout ${ms(input.upstreamTimeoutMs, 60_000)};`,
    // Connection "" keeps the upstream connection alive; an upgrade asks for one of its own.
    '  map $http_upgrade $mk_connection { default upgrade; "" ""; }',
    '  proxy_set_header Host $http_host;',
    '  proxy_set_header Connection $mk_connection;',
    '  proxy_set_header Upgrade $http_upgrade;',
    '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '  proxy_set_header X-Forwarded-Host $http_host;',
    '  proxy_set_header X-Forwarded-Proto http;',
    ...ups,
    ...servers,
    '}',
    '',
  ].join('\n');
  return { text, skipped };
}

/** A location body answering `code` with `text` and a newline, as text/plain (proxy.ts's answer). */
function fixed(code: number, text: string): string {
  return `default_type "text/plain; charset=utf-8"; return ${code} ${quote(text).slice(0, -1)}\\n";`;
}
