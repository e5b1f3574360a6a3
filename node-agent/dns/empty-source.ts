/**
 * A ServiceNetworkSource with no Services: what the node's DNS reads until the node's view of
 * Services and EndpointSlices has listed the store. The DNS knows it by identity and answers
 * service names (and reverse names of the cluster's ranges) SERVFAIL meanwhile, not NXDOMAIN,
 * which resolvers would cache; pod names still resolve.
 */
import type { ServiceNetworkSource } from '../service-network/types';

/** The empty view; it never changes. */
export const EMPTY_SERVICE_NETWORK: ServiceNetworkSource = {
  services: () => [],
  service: () => undefined,
  slicesOf: () => [],
  onChange: () => () => undefined,
};
