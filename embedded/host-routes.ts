/**
 * The host's routes to the pods of `mk up --nodes N`: the supervisor, in the namespace the nodes'
 * bridge lives in, routes every node's pod CIDR via the node's address, from the same node routes
 * bucket the nodes read (node-agent/network/routes.ts), so pods answer from the host as they do
 * under kind. The routes go through the bridge and vanish with it at `mk down`.
 */
import { connectBus, ObjectStore, type Bus } from '../bus';
import { backoffDelay, sleep } from '../common/backoff';
import { NODE_ROUTES_BUCKET } from '../messages';
import { startRouteSync, type RouteSync } from '../node-agent/network/routes';
import { CONTROL_PLANE_USER, type Credentials } from './credentials';
import { readContext } from './context';
import type { ClusterPaths } from './paths';
import { tlsPaths } from './tls';

/** A running route keeper. */
export interface HostRoutes {
  /** Stops keeping the routes (they stay until the bridge goes) and closes the connection. */
  stop(): Promise<void>;
}

/**
 * Starts keeping the host's routes in the background: connects as the control plane once the bus
 * answers and the control plane has made the bucket, retrying until then. Never throws.
 */
export function startHostRoutes(paths: ClusterPaths, creds: Credentials, log: (line: string) => void): HostRoutes {
  let stopped = false;
  let bus: Bus | undefined;
  let sync: RouteSync | undefined;
  const sink = {
    info: (o: object, m: string) => log(`${m} ${JSON.stringify(o)}`),
    warn: (o: object, m: string) => log(`${m} ${JSON.stringify(o)}`),
  };
  const started = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        bus ??= await connectBus({
          servers: readContext(paths.dataDir).servers, user: CONTROL_PLANE_USER, pass: creds.users[CONTROL_PLANE_USER],
          caFile: tlsPaths(paths.dataDir).caCert, name: 'mk-up-routes', timeoutMs: 3000,
        });
        const routes = await ObjectStore.open(bus, { bucket: NODE_ROUTES_BUCKET, create: false });
        if (stopped) return;
        sync = await startRouteSync({ routes, log: sink, resyncMs: 15_000 });
        log(`keeping routes to the nodes' pods (data dir ${paths.dataDir})`);
        return;
      } catch (err) {
        if (attempt % 20 === 5) log(`routes to the nodes' pods: waiting for the control plane (${(err as Error).message})`);
        await sleep(backoffDelay({ initialMs: 200, maxMs: 3_000 }, attempt));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await started;
      await sync?.stop();
      await bus?.close();
    },
  };
}
