/** The node's L7 ingress proxy: routes, endpoints, the proxy and its informer of Ingresses. */
export { readyUpstreams, RoundRobin, type Upstream } from './endpoints';
export { startIngressProxy, type IngressProxy, type IngressProxyOptions } from './proxy';
export { RouteTable, type RouteTarget } from './routes';
export { startNodeIngress, type NodeIngress, type NodeIngressOptions } from './serve';
export { INGRESS_PROXY_MODES, ingressProxyModeError, startChosenIngress, type IngressProxyMode } from './choose';
export { findNginx, startNginxIngress, startNginxProxy, type NginxProxy } from './nginx';
