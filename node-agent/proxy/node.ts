/**
 * The service proxy as one part of the node agent: started once the node has its pod CIDR, in the
 * background (the objects bucket may not exist yet at a cluster's first start), stopped with the
 * agent. A stopped agent leaves its rules, as it leaves its pods and routes: the next agent's first
 * sync adopts and repairs them. The node's teardown (`mk down`) removes them.
 */
import type { OpenServiceNetwork } from '../service-network/node-view';
import { removeProxyRules } from './iptables';
import { startServiceProxy, type ServiceProxy } from './proxy';

/** The cluster CIDR when the node is not told (the control plane's default, MK_CLUSTER_CIDR). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

/** Options of startNodeServiceProxy. */
export interface NodeServiceProxyOptions {
  /** The node's shared view of Services (service-network/node-view.ts). */
  network: Promise<OpenServiceNetwork>;
  nodeName: string;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** False: the proxy never runs and never touches iptables. */
  enabled: boolean;
  /** The cluster CIDR (default MK_CLUSTER_CIDR, else DEFAULT_CLUSTER_CIDR). */
  clusterCIDR?: string;
}

/** The node's proxy, before and after it runs. */
export interface NodeServiceProxy {
  /** Starts it with the node's pod CIDR (once; later calls are ignored). Never throws. */
  start(podCIDR: string): void;
  /** Stops following Services; the rules stay (the view is the agent's to stop). */
  stop(): Promise<void>;
  /** Removes every rule and chain of the proxy (teardown); nothing when disabled. */
  removeRules(): Promise<void>;
}

/** The proxy of a node agent; nothing runs until start(podCIDR). */
export function startNodeServiceProxy(opts: NodeServiceProxyOptions): NodeServiceProxy {
  let starting: Promise<void> | undefined;
  let proxy: ServiceProxy | undefined;
  let stopped = false;
  const clusterCIDR = opts.clusterCIDR ?? process.env.MK_CLUSTER_CIDR ?? DEFAULT_CLUSTER_CIDR;
  return {
    start(podCIDR) {
      if (!opts.enabled || starting || stopped) return;
      starting = (async () => {
        const { source } = await opts.network;
        if (stopped) return;
        const p = proxy = await startServiceProxy({ source, node: { name: opts.nodeName, clusterCIDR, podCIDR }, log: opts.log });
        if (stopped) await p.stop();
      })().catch((err) => opts.log.warn({ node: opts.nodeName, err: String(err) }, 'the service proxy is not running: Services do not work on this node'));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // A start still waiting for the view is not waited for: it sees the flag and stops.
      await proxy?.stop();
    },
    async removeRules() {
      if (opts.enabled) await removeProxyRules();
    },
  };
}
