/**
 * The `/metrics` endpoint of an mk process: a plain HTTP server that answers `GET /metrics` (and
 * HEAD) with the default registry in Prometheus' text format, 404 for any other path and 405 for
 * any other method. It listens on the address it is given (loopback by default: metrics say much
 * about a cluster) and reports the port it got, so port 0 picks a free one.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { register, type Registry } from 'prom-client';

/** Where to listen. */
export interface MetricsServerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free one; the server reports which). */
  port: number;
  /** The registry to serve (default prom-client's default `register`). */
  registry?: Registry;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  host: string;
  port: number;
  /** `http://host:port/metrics`. */
  url: string;
  /** Stops listening and ends open connections; resolves once closed. */
  close(): Promise<void>;
}

/** The default address: loopback, so only this machine reads it unless told otherwise. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** `http://host:port/metrics`, with an IPv6 host in brackets. */
export function metricsUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
}

/**
 * Starts serving. Resolves once listening; rejects with an Error naming the address when it
 * cannot listen (the port is taken, the address is not this machine's).
 */
export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const registry = opts.registry ?? register;
  const host = opts.host ?? DEFAULT_METRICS_HOST;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end(`method ${req.method} not allowed: use GET\n`);
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`collecting metrics failed: ${String(err)}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve metrics on ${host}:${opts.port}: ${err.message}`, { cause: err })));
    server.listen(opts.port, host, () => {
      const { port } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        host,
        port,
        url: metricsUrl(host, port),
        close: () => (closing ??= new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        })),
      });
    });
  });
}

