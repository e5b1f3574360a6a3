/**
 * What a node's service network (the iptables service proxy, the cluster DNS server and the
 * ingress proxy) reads of the store: Services and their EndpointSlices, in the fields of
 * Kubernetes' v1 Service and discovery.k8s.io/v1 EndpointSlice it acts on
 * (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/ and
 * .../endpoint-slice-v1/). The full schemas live in messages/; these are the read side, so a
 * node's parts depend on a small, stable surface. Pure types.
 */

/** One port of a Service. targetPort is a number or the name of a container port. */
export interface ServicePortView {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

/** A Service as the node sees it. */
export interface ServiceView {
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
  spec: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    /** An IPv4 address, `None` for a headless service, absent until allocated. */
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePortView[];
    selector?: Record<string, string>;
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalName?: string;
    externalIPs?: string[];
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    publishNotReadyAddresses?: boolean;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** One endpoint of a slice: a pod's address and whether it takes traffic. */
export interface EndpointView {
  addresses: string[];
  /** ready: serving and not terminating; serving: passes readiness, even while terminating. */
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

/** A port of a slice: the resolved target port of the service port of the same name. */
export interface EndpointPortView {
  name?: string;
  port?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** An EndpointSlice as the node sees it; its service is metadata.labels[SERVICE_NAME_LABEL]. */
export interface EndpointSliceView {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: EndpointView[];
  ports?: EndpointPortView[];
}

/** What changed in a ServiceNetworkSource: a service's own object or one of its slices. */
export interface ServiceNetworkChange {
  namespace: string;
  /** The service's name (for a slice, the service it belongs to). */
  service: string;
}

/**
 * The node's up-to-date view of Services and EndpointSlices (kept by an informer on each prefix).
 * Readers call the getters at any time; `onChange` hears every change after it happened in the
 * view, one at a time, and returns a function that stops listening. A changed Service or slice is
 * a new object; objects handed out are never changed in place (the proxy's RuleCache keeps a
 * service's rules while its objects are the same ones).
 */
export interface ServiceNetworkSource {
  services(): ServiceView[];
  service(namespace: string, name: string): ServiceView | undefined;
  /** The slices of one service (by the service-name label), possibly none. */
  slicesOf(namespace: string, service: string): EndpointSliceView[];
  onChange(listener: (change: ServiceNetworkChange) => void): () => void;
}
