/**
 * A ServiceNetworkSource with no Services: what the node's DNS reads while the node keeps no view
 * of Services and EndpointSlices. Every service name is then NXDOMAIN; pod names still resolve.
 */
import type { ServiceNetworkSource } from '../service-network/types';

/** The empty view; it never changes. */
export const EMPTY_SERVICE_NETWORK: ServiceNetworkSource = {
  services: () => [],
  service: () => undefined,
  slicesOf: () => [],
  onChange: () => () => undefined,
};
