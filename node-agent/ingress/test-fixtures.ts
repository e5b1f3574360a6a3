/**
 * Test fixtures shared by the ingress proxies' tests (the in-process proxy's, nginx's and the
 * nginx config's): an Ingress from a compact rule list, and small HTTP backends on a given address.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ingress } from '../../messages/ingress';

/** One path of a rule: its pathType (default Prefix), its service (default `web`) and port (default 80). */
export interface RulePath { path: string; type?: string; to?: string; port?: { number?: number; name?: string } }

/** The Ingress `default/web` with `rules` and, when given, a default backend service on port 80. */
export function ingressOf(rules: { host?: string; paths: RulePath[] }[], defaultTo?: string): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      ...(defaultTo ? { defaultBackend: { service: { name: defaultTo, port: { number: 80 } } } } : {}),
      rules: rules.map((r) => ({
        ...(r.host !== undefined ? { host: r.host } : {}),
        http: {
          paths: r.paths.map((p) => ({ path: p.path, pathType: p.type ?? 'Prefix', backend: { service: { name: p.to ?? 'web', port: p.port ?? { number: 80 } } } })),
        },
      })),
    },
  } as Ingress;
}

/** A backend: its address, the requests it saw, and `release()` for the requests it holds. */
export interface Upstream { name: string; ip: string; port: number; server: http.Server; hits: number; release(): void }

/**
 * An HTTP server on `ip` answering `<name> <method> <url>[ <body>]`, with the forwarding headers
 * it saw as JSON in `x-seen`; it holds requests for `slowPath` until release() and never answers
 * `silentPath`.
 */
export async function upstream(name: string, ip: string, opts: { slowPath?: string; silentPath?: string } = {}): Promise<Upstream> {
  const held: (() => void)[] = [];
  const u: Upstream = { name, ip, port: 0, hits: 0, server: undefined as never, release: () => { for (const r of held.splice(0)) r(); } };
  u.server = http.createServer((req, res) => {
    u.hits++;
    const reply = () => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('x-seen', JSON.stringify({
          xff: req.headers['x-forwarded-for'], xfh: req.headers['x-forwarded-host'], xfp: req.headers['x-forwarded-proto'],
          host: req.headers.host, secret: req.headers['x-hop'], keepAlive: req.headers['keep-alive'],
        }));
        res.end(`${name} ${req.method} ${req.url}${chunks.length ? ` ${Buffer.concat(chunks).toString()}` : ''}`);
      });
    };
    if (opts.silentPath && req.url === opts.silentPath) return;
    if (opts.slowPath && req.url === opts.slowPath) held.push(reply);
    else reply();
  });
  await new Promise<void>((r) => u.server.listen(0, ip, r));
  u.port = (u.server.address() as AddressInfo).port;
  return u;
}

/** Closes `s` and every connection it holds. */
export const closeServer = (s: http.Server): Promise<void> => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });
