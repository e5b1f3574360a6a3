/**
 * The networking.k8s.io/v1 Ingress kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/service-resources/ingress-v1/ that mk keeps.
 * An Ingress maps HTTP hosts and paths to Services; each node's ingress proxy serves it. The
 * checks are Kubernetes' (pkg/apis/networking/validation/validation.go): paths of type Prefix and
 * Exact are absolute and clean, a backend names a service and one port, a host is a DNS name (a
 * leading `*.` wildcard allowed), never an IP address.
 */
import { z } from 'zod';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { dns1123LabelError, dns1123SubdomainError } from './names';

/** The path types Kubernetes knows. */
export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;
export type PathType = (typeof PATH_TYPES)[number];

export const ServiceBackendPort = z.strictObject({
  name: z.string().optional().describe('The name of a port of the service; exclusive with number.'),
  number: z.number().int().optional().describe('The number of a port of the service (1-65535); exclusive with name.'),
}).meta({ title: 'ServiceBackendPort' });
export type ServiceBackendPort = z.infer<typeof ServiceBackendPort>;

export const IngressServiceBackend = z.strictObject({
  name: z.string().describe('The service, in the namespace of the Ingress; it may not exist yet.'),
  port: ServiceBackendPort.optional().describe('The port of the service to send to, by number or by name. Required.'),
}).meta({ title: 'IngressServiceBackend' });

export const IngressBackend = z.strictObject({
  service: IngressServiceBackend.optional().describe('The Service that answers. Required: mk serves no resource backends.'),
  resource: z.unknown().optional().meta({
    title: 'TypedLocalObjectReference',
    description: 'A backend that is an object other than a Service; refused, for mk has none such.',
  }),
}).meta({ title: 'IngressBackend' });
export type IngressBackend = z.infer<typeof IngressBackend>;

export const HTTPIngressPath = z.strictObject({
  path: z.string().optional().describe(
    'The path requests are matched against; starts with `/`. Prefix matches by whole path elements '
    + '(`/foo` matches `/foo` and `/foo/bar`, not `/foobar`), Exact the path as it is.',
  ),
  pathType: z.string().optional().describe(
    'How path is matched: Exact, Prefix or ImplementationSpecific (mk matches it as Prefix). Required.',
  ),
  backend: IngressBackend.describe('Where the requests this path matches go.'),
}).meta({ title: 'HTTPIngressPath' });
export type HTTPIngressPath = z.infer<typeof HTTPIngressPath>;

export const IngressRule = z.strictObject({
  host: z.string().optional().describe(
    'The host the rule serves (the request\'s Host, without port): a DNS name, or `*.` and a DNS name '
    + 'to match one extra leading label. No host: every host.',
  ),
  http: z.strictObject({
    paths: z.array(HTTPIngressPath).describe('The paths of the host, each to a backend. At least one.'),
  }).meta({ title: 'HTTPIngressRuleValue' }).optional().describe('The paths of the host and their backends.'),
}).meta({ title: 'IngressRule' });
export type IngressRule = z.infer<typeof IngressRule>;

export const IngressTLS = z.strictObject({
  hosts: z.array(z.string()).optional().describe('The hosts the certificate is for.'),
  secretName: z.string().optional().describe('The Secret holding the certificate and key.'),
}).meta({ title: 'IngressTLS' });

export const IngressSpec = z.strictObject({
  ingressClassName: z.string().optional().describe(
    'The class of controller meant to serve this Ingress. mk has one controller, which serves every class.',
  ),
  defaultBackend: IngressBackend.optional().describe('Where requests that match no rule go; else they get 404.'),
  rules: z.array(IngressRule).optional().describe('Hosts and paths, each to a backend.'),
  tls: z.array(IngressTLS).optional().describe(
    'TLS for some hosts: accepted and stored, and shown as port 443, but mk\'s proxy serves plain HTTP only.',
  ),
}).meta({ title: 'IngressSpec' });
export type IngressSpec = z.infer<typeof IngressSpec>;

type Issue = { path: (string | number)[]; message: string };

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** Why `host` is no valid rule host (a DNS name, or `*.` and one), or null. */
export function ingressHostError(host: string): string | null {
  if (IPV4.test(host) || host.includes(':')) return `Invalid value: "${host}": must be a DNS name, not an IP address`;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  const err = dns1123SubdomainError(name);
  if (err) {
    return `Invalid value: "${host}": a lowercase RFC 1123 subdomain ${err}`
      + `${host.includes('*') ? ' (a wildcard is `*.` and a DNS name)' : ''}`;
  }
  return null;
}

/** Why `path` is no valid path of type `type`, or null (validation.go validateIngressHTTPPath). */
function pathError(path: string | undefined, type: PathType): string | null {
  if (type === 'ImplementationSpecific') {
    return path && !path.startsWith('/') ? `Invalid value: "${path}": must be an absolute path` : null;
  }
  if (!path || !path.startsWith('/')) return `Invalid value: "${path ?? ''}": must be an absolute path`;
  for (const bad of ['//', '/./', '/../', '%2f', '%2F']) {
    if (path.includes(bad)) return `Invalid value: "${path}": must not contain '${bad}'`;
  }
  for (const bad of ['/..', '/.']) {
    if (path.endsWith(bad)) return `Invalid value: "${path}": cannot end with '${bad}'`;
  }
  return null;
}

/** The problems of one backend, at `at`. */
function backendIssues(b: IngressBackend, at: (string | number)[]): Issue[] {
  const out: Issue[] = [];
  if (b.resource !== undefined) {
    out.push({ path: [...at, 'resource'], message: 'Unsupported value: mk serves only service backends' });
    if (b.service) out.push({ path: at, message: 'Invalid value: cannot set both resource and service backends' });
    return out;
  }
  const s = b.service;
  if (!s) return [{ path: [...at, 'service'], message: 'Required value: a backend needs a service' }];
  if (!s.name) out.push({ path: [...at, 'service', 'name'], message: 'Required value: the backend\'s service name' });
  else {
    const err = dns1123LabelError(s.name);
    if (err) out.push({ path: [...at, 'service', 'name'], message: `Invalid value: "${s.name}": a service name ${err}` });
  }
  const p = s.port;
  if (!p || (p.name === undefined && p.number === undefined)) {
    out.push({ path: [...at, 'service', 'port'], message: 'Required value: port name or number is required' });
  } else if (p.name !== undefined && p.number !== undefined) {
    out.push({ path: [...at, 'service', 'port'], message: 'Invalid value: cannot set both port name & port number' });
  } else if (p.number !== undefined && (p.number < 1 || p.number > 65535)) {
    out.push({ path: [...at, 'service', 'port', 'number'], message: `Invalid value: ${p.number}: must be between 1 and 65535, inclusive` });
  } else if (p.name !== undefined && (dns1123LabelError(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name))) {
    out.push({ path: [...at, 'service', 'port', 'name'], message: `Invalid value: "${p.name}": must be a port name (at most 15 characters, lower case letters, digits and '-', at least one letter)` });
  }
  return out;
}

/** Why `spec` is invalid as Kubernetes' validation says it, one message per problem. */
export function ingressSpecErrors(spec: IngressSpec): Issue[] {
  const out: Issue[] = [];
  if (!spec.defaultBackend && (spec.rules ?? []).length === 0) {
    out.push({ path: [], message: 'Invalid value: either `defaultBackend` or `rules` must be specified' });
  }
  if (spec.ingressClassName !== undefined) {
    const err = dns1123SubdomainError(spec.ingressClassName);
    if (err) out.push({ path: ['ingressClassName'], message: `Invalid value: "${spec.ingressClassName}": ${err}` });
  }
  if (spec.defaultBackend) out.push(...backendIssues(spec.defaultBackend, ['defaultBackend']));
  (spec.rules ?? []).forEach((r, i) => {
    if (r.host !== undefined && r.host !== '') {
      const err = ingressHostError(r.host);
      if (err) out.push({ path: ['rules', i, 'host'], message: err });
    }
    if (!r.http) return;
    if (r.http.paths.length === 0) out.push({ path: ['rules', i, 'http', 'paths'], message: 'Required value: at least one path' });
    r.http.paths.forEach((p, j) => {
      const at = ['rules', i, 'http', 'paths', j];
      if (p.pathType === undefined) out.push({ path: [...at, 'pathType'], message: 'Required value: pathType must be specified' });
      else if (!(PATH_TYPES as readonly string[]).includes(p.pathType)) {
        out.push({ path: [...at, 'pathType'], message: `Unsupported value: "${p.pathType}": supported values: "Exact", "ImplementationSpecific", "Prefix"` });
      } else {
        const err = pathError(p.path, p.pathType as PathType);
        if (err) out.push({ path: [...at, 'path'], message: err });
      }
      out.push(...backendIssues(p.backend, [...at, 'backend']));
    });
  });
  (spec.tls ?? []).forEach((t, i) => (t.hosts ?? []).forEach((h, j) => {
    const err = ingressHostError(h);
    if (err) out.push({ path: ['tls', i, 'hosts', j], message: err });
  }));
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const IngressSchema = z.strictObject({
  apiVersion: z.literal('networking.k8s.io/v1').describe('The API version of the kind: `networking.k8s.io/v1`.'),
  kind: z.literal('Ingress').describe('The kind of object: `Ingress`.'),
  metadata: ObjectMeta.describe("The Ingress's name, namespace, labels and the metadata the server keeps."),
  spec: IngressSpec.superRefine((spec, ctx) => {
    for (const e of ingressSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('The rules: hosts and paths to Services, a default backend, and TLS (stored only).'),
  status: z.unknown().optional().meta({
    title: 'IngressStatus',
    description: 'loadBalancer.ingress: the InternalIP of every Ready node, where the proxy listens. '
      + "A manifest's status is ignored.",
  }),
}).meta({ title: 'Ingress' });

/** https://kubernetes.io/docs/reference/kubernetes-api/service-resources/ingress-v1/#IngressStatus */
export interface IngressStatus {
  loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] };
}

export interface Ingress {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'Ingress';
  metadata: Meta;
  spec: IngressSpec;
  status?: IngressStatus;
}

/** Every service an Ingress names, its default backend's first, without repeats. */
export function ingressServices(ing: Ingress): string[] {
  const names = [ing.spec?.defaultBackend?.service?.name];
  for (const r of ing.spec?.rules ?? []) for (const p of r.http?.paths ?? []) names.push(p.backend?.service?.name);
  return [...new Set(names.filter((n): n is string => !!n))];
}
