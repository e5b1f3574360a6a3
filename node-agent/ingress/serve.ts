/**
 * The node's ingress: the proxy (proxy.ts) fed by an informer on `ingresses.>` of the objects
 * bucket, read before the proxy listens. Every change rebuilds the route table and swaps it in
 * whole, so a change never drops a request in flight or an open connection.
 */
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import type { Logger } from '../../common/log';
import type { Ingress } from '../../messages/ingress';
import type { ServiceNetworkSource } from '../service-network/types';
import { parseStoredIngress } from './parse';
import { startIngressProxy, type IngressProxyOptions } from './proxy';
import { RouteTable } from './routes';

/** What the node's ingress needs. */
export interface NodeIngressOptions extends Omit<IngressProxyOptions, 'source'> {
  /** The objects bucket (read: `ingresses.>`). */
  store: ObjectStore;
  source: ServiceNetworkSource;
  log?: Logger;
}

/** A running ingress: its proxy's port, and stop(). */
export interface NodeIngress {
  readonly port: number;
  /** The table now in use (for tests and the logs). */
  routes(): RouteTable;
  stop(): Promise<void>;
}

/** The Ingresses of the store as a route table, kept current. */
export interface IngressRoutes {
  /** The table now. */
  table(): RouteTable;
  stop(): Promise<void>;
}

/**
 * Starts an informer on `ingresses.>` and resolves once the first listing is in the table; every
 * later change (a burst makes one table) calls `onChange` with the new table. A malformed stored
 * Ingress is left out with a warning.
 */
export async function watchIngressRoutes(opts: { store: ObjectStore; log?: Logger }, onChange: (table: RouteTable) => void): Promise<IngressRoutes> {
  const ingresses = new Map<string, Ingress>();
  let table = new RouteTable([]);
  let started = false;
  let pending = false;
  const rebuild = () => {
    pending = false;
    table = new RouteTable(ingresses.values());
    if (started) onChange(table);
    opts.log?.debug({ ingresses: table.size }, 'ingress routes changed');
  };
  const informer: Informer = await startInformer<Ingress>(opts.store, 'ingresses.>', (ev) => {
    const parsed = ev.type === 'DELETE' || !ev.object ? undefined : parseStoredIngress(ev.object);
    if (parsed?.ok) ingresses.set(ev.key, parsed.value);
    else ingresses.delete(ev.key);
    // A malformed stored value would throw while building the table, outside any handler.
    if (parsed && !parsed.ok) opts.log?.warn({ key: ev.key, problem: parsed.error }, 'malformed Ingress left out of the ingress routes');
    // A burst of changes (the first listing) makes one table.
    if (!pending) {
      pending = true;
      queueMicrotask(rebuild);
    }
  });
  rebuild();
  started = true;
  return { table: () => table, stop: () => informer.stop() };
}

/** What serves the routes: a proxy that takes a new table at any time. */
interface RouteServer { readonly port: number; setRoutes(table: RouteTable): void; stop(): Promise<void> }

/**
 * Reads the Ingresses, then starts a proxy with `start(first table)` and keeps it fed: a proxy
 * (re)started on a node never answers 404 for hosts that have rules because it has not read them
 * yet. Both proxies (the in-process one and nginx) start through it.
 */
export async function serveIngressRoutes<P extends RouteServer>(
  opts: { store: ObjectStore; log?: Logger }, start: (first: RouteTable) => Promise<P>,
): Promise<{ ingress: NodeIngress; proxy: P }> {
  let proxy: P | undefined;
  const routes = await watchIngressRoutes(opts, (table) => proxy?.setRoutes(table));
  try {
    proxy = await start(routes.table());
  } catch (err) {
    await routes.stop();
    throw err;
  }
  // Changes that came while it started (before the first request can be read: that takes an I/O turn).
  proxy.setRoutes(routes.table());
  const running = proxy;
  return {
    proxy: running,
    ingress: {
      port: running.port,
      routes: () => routes.table(),
      async stop() {
        await routes.stop();
        await running.stop();
      },
    },
  };
}

/** The node's ingress on the in-process proxy (proxy.ts). Throws when it cannot listen. */
export async function startNodeIngress(opts: NodeIngressOptions): Promise<NodeIngress> {
  return (await serveIngressRoutes(opts, () => startIngressProxy(opts))).ingress;
}
