/**
 * One view of Services and EndpointSlices per node agent, shared by its service proxy, its DNS
 * server and its ingress proxy: one pair of watches on the objects bucket, however many readers.
 * Opened in the background (the bucket may not exist yet when a cluster first starts) and retried
 * until it is there.
 */
import { ObjectStore, type Bus } from '../../bus';
import type { ServiceNetworkSource } from './types';
import { watchServiceNetwork, type ServiceNetworkView } from './view';

/** The objects bucket as the node opened it, and the view kept from it. */
export interface OpenServiceNetwork {
  store: ObjectStore;
  source: ServiceNetworkSource;
}

/** Options of startNodeServiceNetwork. */
export interface NodeServiceNetworkOptions {
  bus: Bus;
  log: { warn(o: object, m: string): void; debug?(o: object, m: string): void };
  /** A source given by the caller (tests), used instead of watching the store. */
  given?: ServiceNetworkSource;
  /** Retries an open until it works (the agent's wait for the control plane's buckets). */
  whenReady<T>(what: string, open: () => Promise<T>): Promise<T>;
}

/** The node's shared view; `ready` never settles once the agent stopped before it was open. */
export interface NodeServiceNetwork {
  ready: Promise<OpenServiceNetwork>;
  stop(): Promise<void>;
}

/** Starts opening the view; readers chain on `ready`. */
export function startNodeServiceNetwork(opts: NodeServiceNetworkOptions): NodeServiceNetwork {
  let stopped = false;
  let view: ServiceNetworkView | undefined;
  const ready = new Promise<OpenServiceNetwork>((resolve) => {
    void (async () => {
      // An agent stopped while waiting ends the wait (the opens resolve to nothing once stopped).
      const store = await opts.whenReady('the objects bucket', async () => (stopped ? undefined : ObjectStore.open(opts.bus, { create: false })));
      if (!store || stopped) return;
      if (opts.given) return resolve({ store, source: opts.given });
      const v = await opts.whenReady('the view of Services', async () => (stopped ? undefined : watchServiceNetwork({ store, log: opts.log })));
      if (!v) return;
      if (stopped) return void await v.stop();
      view = v;
      resolve({ store, source: v });
    })().catch((err) => opts.log.warn({ err: String(err) }, 'no view of Services: the proxy, DNS and ingress do not see them'));
  });
  return {
    ready,
    async stop() {
      stopped = true;
      await view?.stop();
    },
  };
}
