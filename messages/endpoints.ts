/**
 * v1 Endpoints and discovery.k8s.io/v1 EndpointSlice: the pods behind a Service, with their
 * addresses, readiness and ports (https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/,
 * https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoints-v1/ and
 * .../endpoint-slice-v1/). The control plane's endpoints controller keeps both for every Service
 * with a selector; a Service without one gets what its users write.
 */
import { z } from 'zod';
import { isIPAddress } from './lifecycle';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';

/** The label that ties an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** The label that says who manages an EndpointSlice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** The value of LABEL_MANAGED_BY on the slices mk's endpoints controller keeps. */
export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller.mk.io';
/** The most endpoints the controller puts in one slice (Kubernetes' --max-endpoints-per-slice default). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const Protocol = z.enum(['TCP', 'UDP', 'SCTP']);

export const EndpointObjectReference = z.strictObject({
  kind: z.string().optional().describe('The kind of the object behind the address: `Pod` for the addresses the controller writes.'),
  namespace: z.string().optional().describe('The namespace of that object.'),
  name: z.string().optional().describe('The name of that object.'),
  uid: z.string().optional().describe('The uid of that object, which tells it apart from a later one of the same name.'),
  apiVersion: z.string().optional().describe('The API version of that object.'),
  resourceVersion: z.string().optional().describe('The revision of that object the address was taken from, if known.'),
  fieldPath: z.string().optional().describe('A part of that object, when the reference is to a part of it.'),
}).meta({ title: 'ObjectReference', description: 'The object (a pod) an address belongs to.' });

export const EndpointAddress = z.strictObject({
  ip: z.string().regex(IPV4, 'must be an IPv4 address').describe("The address: a pod's IP."),
  hostname: z.string().optional().describe(
    "The pod's hostname, set when the pod's spec.hostname is set and its spec.subdomain names the service.",
  ),
  nodeName: z.string().optional().describe('The node the pod runs on.'),
  targetRef: EndpointObjectReference.optional().describe('The pod the address belongs to.'),
}).meta({ title: 'EndpointAddress' });

export const EndpointsPort = z.strictObject({
  name: z.string().optional().describe('The name of the service port this is the target of; may be empty when the service has one port.'),
  port: z.number().int().min(1).max(65535).describe('The port on the addresses: the service port\'s targetPort resolved on the pod.'),
  protocol: Protocol.optional().describe('TCP, UDP or SCTP; TCP when omitted.'),
  appProtocol: z.string().optional().describe('The application protocol of the port, from the service port.'),
}).meta({ title: 'EndpointPort' });

export const EndpointSubset = z.strictObject({
  addresses: z.array(EndpointAddress).optional().describe('Addresses ready to take traffic: ready pods not being deleted.'),
  notReadyAddresses: z.array(EndpointAddress).optional().describe(
    'Addresses not ready (yet): pods that fail their readiness, or have not passed it yet.',
  ),
  ports: z.array(EndpointsPort).optional().describe('The ports every address of the subset serves.'),
}).meta({ title: 'EndpointSubset', description: 'Addresses that serve the same ports.' });

export const EndpointsSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Endpoints').describe('The kind of object: `Endpoints`.'),
  metadata: ObjectMeta.describe('The name (that of the service) and namespace, and the metadata the server keeps.'),
  subsets: z.array(EndpointSubset).optional().describe(
    'The addresses and ports, grouped so that every address of a subset serves every port of it. None when no pod is selected.',
  ),
}).meta({ title: 'Endpoints' });

export type EndpointAddress = z.infer<typeof EndpointAddress>;
export type EndpointsPort = z.infer<typeof EndpointsPort>;
export type EndpointSubset = z.infer<typeof EndpointSubset>;

/** An Endpoints object as stored. */
export interface Endpoints {
  apiVersion: 'v1';
  kind: 'Endpoints';
  metadata: Meta;
  subsets?: EndpointSubset[];
}

export const EndpointConditions = z.strictObject({
  ready: z.boolean().optional().describe(
    'True when the endpoint should take new traffic: the pod is Ready and not being deleted (or the service publishes '
    + 'addresses that are not ready).',
  ),
  serving: z.boolean().optional().describe("The pod's Ready condition, whether or not it is being deleted."),
  terminating: z.boolean().optional().describe('True while the pod is being deleted (it has a deletionTimestamp).'),
}).meta({ title: 'EndpointConditions' });

export const SliceEndpoint = z.strictObject({
  addresses: z.array(z.string()).min(1).max(100).describe("The endpoint's addresses, of the slice's addressType: a pod's IP."),
  conditions: EndpointConditions.optional().describe('Whether the endpoint is ready, serving and terminating.'),
  hostname: z.string().optional().describe(
    "The pod's hostname, set when the pod's spec.hostname is set and its spec.subdomain names the service.",
  ),
  nodeName: z.string().optional().describe('The node the pod runs on.'),
  targetRef: EndpointObjectReference.optional().describe('The pod the endpoint is.'),
  zone: z.string().optional().describe('The zone of the node the endpoint runs on.'),
}).meta({ title: 'Endpoint' });

export const SlicePort = z.strictObject({
  name: z.string().optional().describe('The name of the service port this is the target of; empty when the service port has none.'),
  port: z.number().int().min(1).max(65535).optional().describe("The port on the endpoints: the service port's targetPort resolved on the pods."),
  protocol: Protocol.optional().describe('TCP, UDP or SCTP; TCP when omitted.'),
  appProtocol: z.string().optional().describe('The application protocol of the port, from the service port.'),
}).meta({ title: 'EndpointPort' });

export const EndpointSliceSchema = z.strictObject({
  apiVersion: z.literal('discovery.k8s.io/v1').describe('The API version of the kind: `discovery.k8s.io/v1`.'),
  kind: z.literal('EndpointSlice').describe('The kind of object: `EndpointSlice`.'),
  metadata: ObjectMeta.describe(
    `The name, namespace and labels (\`${LABEL_SERVICE_NAME}\` names the service), and the metadata the server keeps.`,
  ),
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']).describe('The kind of address every endpoint of the slice has: IPv4, IPv6 or FQDN.'),
  endpoints: z.array(SliceEndpoint).max(1000).describe('The endpoints, each one pod; none for a service that selects no pod.'),
  ports: z.array(SlicePort).max(100).optional().describe('The ports every endpoint of the slice serves.'),
}).superRefine((s, ctx) => {
  const family = s.addressType;
  if (family === 'FQDN') return;
  s.endpoints.forEach((e, i) => e.addresses.forEach((a, j) => {
    const bad = endpointAddressError(family, a);
    if (bad) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message: bad });
  }));
}).meta({ title: 'EndpointSlice' });

/** The 8 16-bit groups of a valid IPv6 address (an IPv4 tail becomes the last two). */
function ipv6Groups(a: string): number[] {
  const [head, tail] = a.split('::');
  const part = (h: string | undefined): number[] => (h ? h.split(':').flatMap((g) => {
    if (!g.includes('.')) return [parseInt(g, 16)];
    const [b0, b1, b2, b3] = g.split('.').map(Number);
    return [b0 * 256 + b1, b2 * 256 + b3];
  }) : []);
  const h = part(head);
  const t = part(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function ipv4SpecialRange(a: string): string | undefined {
  const [b0, b1] = a.split('.').map(Number);
  if (b0 === 0) return 'may not be unspecified (0.0.0.0/8)';
  if (b0 === 127) return 'may not be in the loopback range (127.0.0.0/8)';
  if (b0 === 169 && b1 === 254) return 'may not be in the link-local range (169.254.0.0/16)';
  if (b0 >= 224 && b0 <= 239) return 'may not be in the multicast range (224.0.0.0/4)';
  return undefined;
}

/**
 * Why `a` may not be an endpoint address of a slice of `addressType`, or undefined when it may.
 * Beyond the form, an endpoint must not be unspecified, loopback, link-local or multicast: the
 * node's proxies would otherwise send a Service's traffic to the node itself or its neighbours
 * (Kubernetes refuses these ranges too: pkg/apis/discovery/validation). `allowLoopback` keeps
 * IPv4 loopback addresses, for a node view whose tests serve pods on 127.0.0.x.
 */
export function endpointAddressError(addressType: 'IPv4' | 'IPv6', a: string, opts: { allowLoopback?: boolean } = {}): string | undefined {
  if (addressType === 'IPv4') {
    if (!IPV4.test(a)) return `Invalid value: "${a}": must be a valid IPv4 address`;
    if (opts.allowLoopback && a.startsWith('127.')) return undefined;
    const r = ipv4SpecialRange(a);
    return r ? `Invalid value: "${a}": ${r}` : undefined;
  }
  if (IPV4.test(a) || !isIPAddress(a)) return `Invalid value: "${a}": must be a valid IPv6 address`;
  const g = ipv6Groups(a);
  const bad = g.every((x) => x === 0) ? 'may not be unspecified (::)'
    : g.slice(0, 7).every((x) => x === 0) && g[7] === 1 ? 'may not be in the loopback range (::1/128)'
      : (g[0] & 0xffc0) === 0xfe80 ? 'may not be in the link-local range (fe80::/10)'
        : (g[0] & 0xff00) === 0xff00 ? 'may not be in the multicast range (ff00::/8)'
          : g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff
            ? ipv4SpecialRange(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`) : undefined;
  return bad ? `Invalid value: "${a}": ${bad}` : undefined;
}

export type SliceEndpoint = z.infer<typeof SliceEndpoint>;
export type SlicePort = z.infer<typeof SlicePort>;

/** An EndpointSlice as stored. */
export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: Meta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
  ports?: SlicePort[];
}
