/** The node's pod network: CNI bridge config, routes to the other nodes' pods. */
export {
  REQUIRED_CNI_PLUGINS, assertCniPlugins, buildCniConfig, gatewayOf, missingCniPlugins, parseCidr, removeCniResultCache, writeCniConfig,
  type CniConfigOptions, type WriteCniConfigOptions,
} from './cni';
export {
  ROUTE_PROTO, applyRoutes, desiredRoutes, desiredVxlanRoutes, listPodRoutes, planRoutes, removePodRoutes, startRouteSync,
  type PodRoute, type RoutePlan, type RouteSync, type RouteSyncOptions,
} from './routes';
export { execVia, hostExec, type Exec } from './exec';
export {
  VXLAN_DEVICE, VXLAN_PORT, VXLAN_VNI, applyVxlanPlan, desiredVxlanEntries, ensureVxlanDevice, listVxlanEntries,
  parsePodNetworkMode, planVxlan, removeVxlanDevice, vtepAddress, vtepMacFor,
  type VxlanDevice, type VxlanEntries, type VxlanPlan,
} from './vxlan';
export {
  DEFAULT_SERVICE_CIDR, SERVICE_DEVICE, ensureServiceRoute, keepServiceRoute, removeServiceRoute, serviceRouteTarget,
  type KeepServiceRouteOptions, type ServiceRouteState,
} from './service-route';
