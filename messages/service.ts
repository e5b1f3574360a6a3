/**
 * The v1 Service kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/ that mk keeps.
 * A Service gives a set of pods one stable virtual address (its cluster IP), ports on every node
 * (NodePort, LoadBalancer) or a DNS alias (ExternalName). The checks and their wording follow
 * Kubernetes' ValidateService (pkg/apis/core/validation); the defaults follow SetDefaults_Service
 * (pkg/apis/core/v1/defaults.go). IPv4 single-stack only.
 */
import { z } from 'zod';
import { labelValueError, qualifiedNameError } from './label-syntax';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { dns1123LabelError, dns1123SubdomainError } from './names';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
export type ServiceType = typeof SERVICE_TYPES[number];
export const SERVICE_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type ServiceProtocol = typeof SERVICE_PROTOCOLS[number];

/** spec.clusterIP of a headless service: no virtual IP, DNS answers with the pods' addresses. */
export const HEADLESS = 'None';
/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10_800;
/** The largest sessionAffinityConfig.clientIP.timeoutSeconds (1 day). */
export const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86_400;

export const ServicePort = z.strictObject({
  name: z.string().optional().describe(
    'The name of the port within the service (a DNS-1123 label); required and unique when the service has more than '
    + 'one port. EndpointSlices carry the same name.',
  ),
  protocol: z.enum(SERVICE_PROTOCOLS).optional().describe('TCP (the default), UDP or SCTP.'),
  port: z.number().int().describe('The port the service exposes on its cluster IP, 1 to 65535.'),
  targetPort: z.union([z.number().int(), z.string()]).optional().describe(
    "The pods' port the traffic goes to: a number (1 to 65535) or the name of a container port (an IANA service "
    + 'name such as `http`). The same as `port` when omitted.',
  ),
  nodePort: z.number().int().optional().describe(
    'The port on every node that forwards to this port, for NodePort and LoadBalancer services only. Allocated from '
    + 'the node port range (30000-32767 by default) when omitted; a chosen one must be in the range and free.',
  ),
  appProtocol: z.string().optional().describe('The application protocol of the port (`http`, `kubernetes.io/h2c`), as a hint to proxies.'),
}).meta({ title: 'ServicePort' });
export type ServicePort = z.infer<typeof ServicePort>;

export const SessionAffinityConfig = z.strictObject({
  clientIP: z.strictObject({
    timeoutSeconds: z.number().int().optional().describe(
      'How long a client stays with the endpoint it was sent to after its last packet; 1 to 86400, 10800 (3 h) when omitted.',
    ),
  }).optional().describe('The settings of ClientIP affinity.').meta({ title: 'ClientIPConfig' }),
}).meta({ title: 'SessionAffinityConfig' });

export const ServiceSpec = z.strictObject({
  type: z.enum(SERVICE_TYPES).optional().describe(
    'ClusterIP (the default): a virtual IP inside the cluster. NodePort: also a port on every node. LoadBalancer: a '
    + "NodePort whose status lists the Ready nodes' addresses as its load balancer. ExternalName: a DNS alias (CNAME) to externalName, "
    + 'with no IP and no proxying.',
  ),
  selector: z.record(z.string(), z.string()).optional().describe(
    'The labels of the pods the service sends traffic to. Without a selector, its endpoints are kept by hand.',
  ),
  ports: z.array(ServicePort).optional().describe(
    'The ports the service exposes. Required except for ExternalName and headless services.',
  ),
  clusterIP: z.string().optional().describe(
    "The service's virtual IPv4 address, from the service CIDR (10.96.0.0/12 by default): allocated when omitted, or a free "
    + 'address of the range when chosen. `None` makes the service headless. It cannot change once set, except by '
    + 'turning the service into or out of ExternalName.',
  ),
  clusterIPs: z.array(z.string()).optional().describe(
    'The cluster IPs, one per IP family; mk serves IPv4 only, so at most one, equal to clusterIP.',
  ),
  externalName: z.string().optional().describe(
    'For ExternalName services, the DNS name (a lowercase DNS-1123 subdomain) the service name is an alias for.',
  ),
  externalIPs: z.array(z.string()).optional().describe(
    "IPv4 addresses, not managed by mk, on which nodes also accept the service's ports.",
  ),
  sessionAffinity: z.enum(['None', 'ClientIP']).optional().describe(
    'ClientIP sends every connection of one client address to the same endpoint; None (the default) spreads them.',
  ),
  sessionAffinityConfig: SessionAffinityConfig.optional().describe('The settings of session affinity; only with ClientIP.'),
  externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional().describe(
    'For traffic from outside (node ports, external IPs, load balancer): Cluster (the default) may send it to any '
    + "endpoint; Local only to endpoints on the node it arrived at, keeping the client's address.",
  ),
  internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional().describe(
    'For traffic from inside the cluster to the cluster IP: Cluster (the default) or Local (only endpoints on the same node).',
  ),
  publishNotReadyAddresses: z.boolean().optional().describe(
    'True: pods count as endpoints (and get DNS records) even before they are ready.',
  ),
  ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional().describe('The IP families of the service; mk serves `[IPv4]` only.'),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional().describe(
    'How many IP families the service gets; mk serves SingleStack only.',
  ),
  loadBalancerIP: z.string().optional().describe(
    'The address a LoadBalancer service asks its load balancer for. Accepted and stored, as by Kubernetes (where it is '
    + 'deprecated); mk\'s load balancer uses the nodes\' addresses.',
  ),
  healthCheckNodePort: z.number().int().optional().describe(
    'For LoadBalancer services with externalTrafficPolicy Local: the node port on which each node answers `GET /` with '
    + '200 while it has a ready endpoint of the service and 503 without, so a load balancer sends traffic only to '
    + 'nodes that keep it. Allocated from the node port range when omitted.',
  ),
  allocateLoadBalancerNodePorts: z.boolean().optional().describe(
    'For LoadBalancer services: whether node ports are allocated (true when omitted). mk\'s load balancer is the node '
    + 'ports, so they are allocated either way.',
  ),
}).meta({ title: 'ServiceSpec' });
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** One address of a load balancer: an IP or a host name. */
export interface LoadBalancerIngress { ip?: string; hostname?: string }

/** https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceStatus */
export interface ServiceStatus {
  loadBalancer?: { ingress?: LoadBalancerIngress[] };
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: Meta;
  spec: ServiceSpec;
  status?: ServiceStatus;
}

/** A validation problem as Kubernetes reports one: the field's path and what is wrong. */
export interface FieldError { path: (string | number)[]; message: string }

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `ip` is a dotted-quad IPv4 address (no leading zeros). */
export function isIpv4(ip: string): boolean {
  return IPV4.test(ip);
}

/** Why `name` is not an IANA service name (a named container port), or null. */
export function ianaSvcNameError(name: string): string | null {
  if (name.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(name)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!/[a-z]/.test(name)) return 'must contain at least one letter (a-z)';
  if (name.includes('--')) return 'must not contain consecutive hyphens';
  if (name.startsWith('-') || name.endsWith('-')) return 'must not begin or end with a hyphen';
  return null;
}

const range = (v: number) => `Invalid value: ${v}: must be between 1 and 65535, inclusive`;

/** The port checks of validateServicePort; `names` collects names for the duplicate test. */
function portErrors(spec: ServiceSpec, out: FieldError[]): void {
  const ports = spec.ports ?? [];
  const names = new Set<string>();
  const pairs = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const at = (...rest: (string | number)[]) => ['ports', i, ...rest];
    if (ports.length > 1 && !p.name) out.push({ path: at('name'), message: 'Required value' });
    if (p.name) {
      const bad = dns1123LabelError(p.name);
      if (bad) out.push({ path: at('name'), message: `Invalid value: "${p.name}": ${bad}` });
      else if (names.has(p.name)) out.push({ path: at('name'), message: `Duplicate value: "${p.name}"` });
      names.add(p.name);
    }
    if (p.port < 1 || p.port > 65535) out.push({ path: at('port'), message: range(p.port) });
    const protocol = p.protocol ?? 'TCP';
    const pair = `${p.port}/${protocol}`;
    if (pairs.has(pair)) out.push({ path: at(), message: `Duplicate value: port ${pair} is listed twice` });
    pairs.add(pair);
    if (typeof p.targetPort === 'number' && (p.targetPort < 1 || p.targetPort > 65535)) {
      out.push({ path: at('targetPort'), message: range(p.targetPort) });
    } else if (typeof p.targetPort === 'string') {
      const bad = ianaSvcNameError(p.targetPort);
      if (bad) out.push({ path: at('targetPort'), message: `Invalid value: "${p.targetPort}": ${bad}` });
    }
    if (p.nodePort !== undefined) {
      const type = spec.type ?? 'ClusterIP';
      if (type === 'ClusterIP' || type === 'ExternalName') {
        out.push({ path: at('nodePort'), message: `Forbidden: may not be used when \`type\` is '${type}'` });
      } else if (p.nodePort < 1 || p.nodePort > 65535) {
        out.push({ path: at('nodePort'), message: range(p.nodePort) });
      } else {
        const np = `${p.nodePort}/${protocol}`;
        if (nodePorts.has(np)) out.push({ path: at('nodePort'), message: `Duplicate value: node port ${np} is listed twice` });
        nodePorts.add(np);
      }
    }
  });
}

/** Why `spec` is invalid, as Kubernetes' ValidateService words it; one entry per problem. */
export function serviceSpecErrors(spec: ServiceSpec): FieldError[] {
  const out: FieldError[] = [];
  const type = spec.type ?? 'ClusterIP';
  const headless = spec.clusterIP === HEADLESS;
  if (type === 'ExternalName') {
    if (!spec.externalName) out.push({ path: ['externalName'], message: 'Required value' });
    else {
      const bad = dns1123SubdomainError(spec.externalName.replace(/\.$/, ''));
      if (bad) out.push({ path: ['externalName'], message: `Invalid value: "${spec.externalName}": ${bad}` });
    }
    if (spec.clusterIP) out.push({ path: ['clusterIP'], message: `Invalid value: "${spec.clusterIP}": may not be set for ExternalName services` });
    if (spec.clusterIPs?.length) out.push({ path: ['clusterIPs'], message: 'Invalid value: may not be set for ExternalName services' });
    if (spec.ipFamilies?.length) out.push({ path: ['ipFamilies'], message: 'Forbidden: may not be set for ExternalName services' });
    if (spec.ipFamilyPolicy) out.push({ path: ['ipFamilyPolicy'], message: 'Forbidden: may not be set for ExternalName services' });
  } else if (spec.externalName) {
    out.push({ path: ['externalName'], message: `Forbidden: may only be set when \`type\` is 'ExternalName'` });
  }
  if (type !== 'ExternalName' && !headless && (spec.ports ?? []).length === 0) out.push({ path: ['ports'], message: 'Required value' });
  portErrors(spec, out);
  if (spec.clusterIP && !headless && !isIpv4(spec.clusterIP)) {
    out.push({ path: ['clusterIP'], message: `Invalid value: "${spec.clusterIP}": must be a valid IPv4 address or "None"` });
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    out.push({ path: ['clusterIP'], message: `Invalid value: "None": may not be set to 'None' for ${type} services` });
  }
  const ips = spec.clusterIPs ?? [];
  if (ips.length > 1) out.push({ path: ['clusterIPs'], message: `Invalid value: ${JSON.stringify(ips)}: at most one address; mk serves IPv4 single-stack only` });
  if (ips.length > 0 && spec.clusterIP && ips[0] !== spec.clusterIP) {
    out.push({ path: ['clusterIPs'], message: `Invalid value: ${JSON.stringify(ips)}: element [0] must match clusterIP "${spec.clusterIP}"` });
  }
  if (ips.length > 0 && !spec.clusterIP && type !== 'ExternalName' && ips[0] !== HEADLESS && !isIpv4(ips[0])) {
    out.push({ path: ['clusterIPs', 0], message: `Invalid value: "${ips[0]}": must be a valid IPv4 address or "None"` });
  }
  for (const [i, fam] of (spec.ipFamilies ?? []).entries()) {
    if (fam !== 'IPv4') out.push({ path: ['ipFamilies', i], message: `Unsupported value: "${fam}": mk serves IPv4 only` });
  }
  if ((spec.ipFamilies ?? []).length > 1) out.push({ path: ['ipFamilies'], message: 'Invalid value: at most one IP family; mk serves IPv4 single-stack only' });
  if (spec.ipFamilyPolicy && spec.ipFamilyPolicy !== 'SingleStack') {
    out.push({ path: ['ipFamilyPolicy'], message: `Unsupported value: "${spec.ipFamilyPolicy}": supported values: "SingleStack" (mk serves IPv4 single-stack only)` });
  }
  for (const [i, ip] of (spec.externalIPs ?? []).entries()) {
    if (!isIpv4(ip)) out.push({ path: ['externalIPs', i], message: `Invalid value: "${ip}": must be a valid IPv4 address` });
  }
  if (spec.loadBalancerIP && !isIpv4(spec.loadBalancerIP)) {
    out.push({ path: ['loadBalancerIP'], message: `Invalid value: "${spec.loadBalancerIP}": must be a valid IPv4 address` });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer') {
    out.push({ path: ['allocateLoadBalancerNodePorts'], message: "Forbidden: may only be used when `type` is 'LoadBalancer'" });
  }
  const affinity = spec.sessionAffinity ?? 'None';
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (affinity === 'None' && spec.sessionAffinityConfig) {
    out.push({ path: ['sessionAffinityConfig'], message: "Invalid value: must not be set when session affinity is 'None'" });
  }
  if (timeout !== undefined && (timeout < 1 || timeout > MAX_CLIENT_IP_TIMEOUT_SECONDS)) {
    out.push({
      path: ['sessionAffinityConfig', 'clientIP', 'timeoutSeconds'],
      message: `Invalid value: ${timeout}: must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT_SECONDS}`,
    });
  }
  const external = type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  if (spec.externalTrafficPolicy && !external) {
    out.push({ path: ['externalTrafficPolicy'], message: `Invalid value: "${spec.externalTrafficPolicy}": may only be set for externally-accessible services` });
  }
  if (spec.healthCheckNodePort !== undefined) {
    // As ValidateService: only a LoadBalancer service with the Local policy has one.
    if (type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') {
      out.push({ path: ['healthCheckNodePort'], message: "Invalid value: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'" });
    } else if (spec.healthCheckNodePort < 1 || spec.healthCheckNodePort > 65535) {
      out.push({ path: ['healthCheckNodePort'], message: range(spec.healthCheckNodePort) });
    }
  }
  for (const [k, v] of Object.entries(spec.selector ?? {})) {
    const bad = qualifiedNameError(k) ?? labelValueError(v);
    if (bad) out.push({ path: ['selector', k], message: `Invalid value: ${JSON.stringify(`${k}=${v}`)}: ${bad}` });
  }
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const ServiceSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Service').describe('The kind of object: `Service`.'),
  metadata: ObjectMeta.describe("The service's name (a DNS-1123 label: it becomes a DNS name), namespace, labels and the metadata the server keeps."),
  spec: ServiceSpec.superRefine((spec, ctx) => {
    for (const e of serviceSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('How the service is reached (type, ports, cluster IP) and which pods serve it (selector).'),
  status: z.unknown().optional().meta({
    title: 'ServiceStatus',
    description: "What the controller last observed: loadBalancer.ingress, the load balancer's addresses (for LoadBalancer "
      + "services, every Ready node's InternalIP). A manifest's status is ignored.",
  }),
}).superRefine((svc, ctx) => {
  const bad = dns1123LabelError(svc.metadata.name);
  if (bad) ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `Invalid value: "${svc.metadata.name}": ${bad}` });
}).meta({ title: 'Service' });

/**
 * Kubernetes' defaults (SetDefaults_Service and the registry's IP family defaults): type
 * ClusterIP, session affinity None (a ClientIP one times out after 10800 s), TCP ports whose
 * targetPort is their port, Cluster traffic policies, node ports allocated for LoadBalancer, and
 * IPv4 single-stack for every type but ExternalName. clusterIPs follows clusterIP. Pure.
 */
export function defaultService(svc: Service): Service {
  const spec: ServiceSpec = { ...svc.spec };
  const type = spec.type ?? 'ClusterIP';
  spec.type = type;
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: t } };
  }
  if (spec.ports) spec.ports = spec.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port }));
  if (type === 'ExternalName') return { ...svc, spec };
  if ((type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0)) spec.externalTrafficPolicy ??= 'Cluster';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
  if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
  return { ...svc, spec };
}

/** Whether a service of this spec gets node ports. */
export function wantsNodePorts(spec: ServiceSpec): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

/** Whether a service of this spec gets a health check node port: LoadBalancer with externalTrafficPolicy Local. */
export function wantsHealthCheckNodePort(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

/** Whether a service of this spec gets a cluster IP allocated (not headless, not ExternalName). */
export function wantsClusterIP(spec: ServiceSpec): boolean {
  return (spec.type ?? 'ClusterIP') !== 'ExternalName' && spec.clusterIP !== HEADLESS;
}
