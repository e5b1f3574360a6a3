/**
 * The node's L7 ingress proxy: an HTTP/1.1 reverse proxy (node:http) that routes each request by
 * the current route table (routes.ts) to a ready endpoint of the target service (endpoints.ts),
 * round-robin, over keep-alive connections. Bodies are piped both ways (streaming), hop-by-hop
 * headers are dropped, X-Forwarded-For/-Host/-Proto are set, and upgrades (websockets) are passed
 * through as raw byte streams. Answers: 404 when no rule matches and there is no default backend,
 * 503 when the target has no ready endpoint (or no such service), 502 when the upstream fails,
 * 504 when it does not answer in time. An idempotent request without a body is tried on another
 * endpoint when one cannot be connected to. The route table is swapped whole (setRoutes), so
 * requests in flight and open connections are never dropped by a change.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { Logger } from '../../common/log';
import type { ServiceNetworkSource } from '../service-network/types';
import { readyUpstreams, RoundRobin, type Upstream } from './endpoints';
import { ingressRequests, ingressUpstreamDuration } from './metrics';
import { normalizeRequestUrl } from './request-path';
import { RouteTable, type RouteTarget } from './routes';

/** What the proxy needs. */
export interface IngressProxyOptions {
  /** Where the node's Services and EndpointSlices are read. */
  source: ServiceNetworkSource;
  /** The port to listen on (0: any free port). */
  port: number;
  /** The address to listen on (default all IPv4 addresses). */
  host?: string;
  /** How long an upstream may stay silent before the request gets 504 (default 60 s). */
  upstreamTimeoutMs?: number;
  /** How long connecting to an endpoint may take before the next is tried, or 502 (default 5 s). */
  connectTimeoutMs?: number;
  /** How long stop() lets requests in flight finish (default 10 s). */
  drainMs?: number;
  log?: Logger;
}

/** A listening proxy. */
export interface IngressProxy {
  /** The port it listens on. */
  readonly port: number;
  /** Replaces the route table; requests already routed keep their target. */
  setRoutes(table: RouteTable): void;
  /** Stops listening, lets requests in flight finish (up to drainMs), then closes every connection. */
  stop(): Promise<void>;
}

/** Headers that concern one connection only (RFC 9110 7.6.1), never forwarded. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors that mean the connection to the upstream was never made (safe to try another). */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNTIMEOUT']);

/** The headers to send upstream: hop-by-hop ones dropped (and those Connection names), forwarding ones set. */
function forwardHeaders(req: http.IncomingMessage, keepUpgrade: boolean): http.OutgoingHttpHeaders {
  const named = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-proto'] = 'http';
  if (keepUpgrade) {
    out.connection = 'Upgrade';
    out.upgrade = req.headers.upgrade ?? '';
  }
  return out;
}

/** Response headers to send back: hop-by-hop ones dropped. */
function backHeaders(res: http.IncomingMessage): http.OutgoingHttpHeaders {
  const named = new Set(String(res.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Starts the proxy with an empty route table; resolves once it listens. Throws when it cannot listen. */
export async function startIngressProxy(opts: IngressProxyOptions): Promise<IngressProxy> {
  const { source, log } = opts;
  const timeoutMs = opts.upstreamTimeoutMs ?? 60_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  let routes = new RouteTable([]);
  const rr = new RoundRobin();
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
  const upgraded = new Set<net.Socket>();
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const answer = (res: http.ServerResponse, code: number, text: string): void => {
    ingressRequests.inc({ code: String(code) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) + 1 });
    res.end(`${text}\n`);
  };

  /** The request's target and its endpoints in the order to try, or the code and text to answer it with. */
  const resolve = (req: http.IncomingMessage): { target: RouteTarget; order: Upstream[] } | { code: number; text: string } => {
    // Matched and forwarded normalised: `/api/../admin` is `/admin` (request-path.ts).
    const url = normalizeRequestUrl(req.url ?? '/');
    if (url === undefined) return { code: 400, text: 'the request target is not a valid path' };
    req.url = url;
    const target = routes.match(req.headers.host, url);
    if (!target) return { code: 404, text: 'no ingress rule matches this host and path' };
    const ups = readyUpstreams(source, target);
    if (!Array.isArray(ups)) return { code: 503, text: ups.reason };
    const key = `${target.namespace}/${target.service}:${target.port.name ?? target.port.number}`;
    return { target, order: rr.order(key, ups) };
  };

  /**
   * Sends `req` to `order[attempt]`. `staleRetried`: this endpoint was already tried again after a
   * kept-alive connection turned out closed by the upstream (once is enough).
   */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, order: Upstream[], attempt: number, staleRetried = false): void => {
    const up = order[attempt];
    const started = performance.now();
    let connected = false;
    const preq = http.request({
      host: up.host, port: up.port, method: req.method, path: req.url, headers: forwardHeaders(req, false), agent,
    });
    preq.on('socket', (s) => {
      if (!(s as net.Socket).connecting) {
        connected = true;
        return;
      }
      // An endpoint that does not take the connection soon (a pod gone, its address unrouted) is passed over.
      const timer = setTimeout(() => {
        preq.destroy(Object.assign(new Error(`connecting to ${up.host}:${up.port} timed out after ${connectTimeoutMs} ms`), { code: 'ECONNTIMEOUT' }));
      }, connectTimeoutMs);
      s.once('connect', () => { connected = true; clearTimeout(timer); });
      s.once('close', () => clearTimeout(timer));
    });
    preq.setTimeout(timeoutMs, () => {
      preq.destroy(Object.assign(new Error(`upstream ${up.host}:${up.port} did not answer within ${timeoutMs} ms`), { code: 'UPSTREAM_TIMEOUT' }));
    });
    preq.on('response', (pres) => {
      ingressUpstreamDuration.observe((performance.now() - started) / 1000);
      ingressRequests.inc({ code: String(pres.statusCode ?? 502) });
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, backHeaders(pres));
      pres.pipe(res);
      pres.on('error', () => res.destroy());
    });
    preq.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      const safe = IDEMPOTENT.has(req.method ?? '') && !hasBody(req) && !res.headersSent;
      // A kept-alive connection the upstream closed meanwhile: the same endpoint on a new one.
      if (safe && !staleRetried && preq.reusedSocket && code === 'ECONNRESET') {
        forward(req, res, order, attempt, true);
        return;
      }
      const retry = safe && !connected && CONNECT_ERRORS.has(code) && attempt + 1 < order.length;
      if (retry) {
        log?.debug({ upstream: `${up.host}:${up.port}`, err: code }, 'ingress upstream refused the connection; trying another');
        forward(req, res, order, attempt + 1, staleRetried);
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const timedOut = code === 'UPSTREAM_TIMEOUT';
      log?.warn({ upstream: `${up.host}:${up.port}`, url: req.url, err: err.message }, 'ingress upstream failed');
      answer(res, timedOut ? 504 : 502, timedOut ? 'upstream timed out' : `upstream failed: ${err.message}`);
    });
    // The client went away: so does the upstream request.
    res.on('close', () => { if (!res.writableFinished) preq.destroy(); });
    if (attempt === 0 && !staleRetried) req.pipe(preq);
    else preq.end();
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    const r = resolve(req);
    if ('code' in r) {
      req.resume();
      answer(res, r.code, r.text);
      return;
    }
    forward(req, res, r.order, 0);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const r = resolve(req);
    if ('code' in r) {
      ingressRequests.inc({ code: String(r.code) });
      socket.end(`HTTP/1.1 ${r.code} ${http.STATUS_CODES[r.code]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const up = r.order[0];
    const upstream = net.connect(up.port, up.host);
    upgraded.add(socket);
    let open = false;
    const done = () => { upgraded.delete(socket); socket.destroy(); upstream.destroy(); };
    upstream.on('connect', () => {
      open = true;
      ingressRequests.inc({ code: '101' });
      const headers = forwardHeaders(req, true);
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${String(one)}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!open) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      done();
    });
    socket.on('error', done);
    socket.on('close', done);
    upstream.on('close', done);
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  log?.info({ port }, 'ingress proxy listening');

  return {
    port,
    setRoutes(table) { routes = table; },
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((r) => { drained = r; }),
          new Promise<void>((r) => setTimeout(r, opts.drainMs ?? 10_000).unref()),
        ]);
      }
      server.closeAllConnections();
      for (const s of upgraded) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}
