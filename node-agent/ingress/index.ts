/** The node's L7 ingress proxy: routes, endpoints, the proxy and its informer. */
export { readyUpstreams, RoundRobin, type Upstream } from './endpoints';
export { startInformerSource, type InformerSource } from './informer-source';
export { startIngressProxy, type IngressProxy, type IngressProxyOptions } from './proxy';
export { RouteTable, type RouteTarget } from './routes';
export { startNodeIngress, type NodeIngress, type NodeIngressOptions } from './serve';
