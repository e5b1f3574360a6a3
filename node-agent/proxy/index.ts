/** The node's service proxy: kube-proxy's iptables mode with mk's chains. */
export {
  FIXED_CHAINS, JUMPS, MASQ_MARK, base32, endpointChain, isProxyChain, serviceChains, servicePortName, type Jump,
} from './chains';
export { CommandError, removeProxyRules, type Commands } from './iptables';
export { startServiceProxy, type ServiceProxy, type ServiceProxyOptions } from './proxy';
export { chainsInSave, planRemoval, planRestore, type AppliedChains, type RestorePlan } from './restore';
export { buildRules, RuleCache, usableEndpoints, type ProxyNode, type ProxyRules, type UdpFlow } from './rules';
export { ensureBridgeNetfilter } from './bridge';
export { HealthCheckServers, type HealthCheck } from './health';
