/**
 * `mk expose`'s work, without oclif: a Service for a deployment, replica set, pod or service, as
 * kubectl expose makes one (kubernetes/kubectl pkg/cmd/expose). The selector is the object's
 * (a workload's spec.selector.matchLabels, a pod's labels, a service's selector) unless
 * --selector gives one; the ports are --port, else the object's (a pod template's container
 * ports, a service's ports); labels are the object's. The object must exist.
 */
import type { KubeObject } from '../messages';
import { ServiceKind } from '../messages/kinds/service';
import type { Api } from './client';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';

/** What `mk expose` was asked. */
export interface ExposeOptions {
  port?: number;
  targetPort?: string;
  type?: string;
  name?: string;
  protocol?: string;
  selector?: string;
  clusterIP?: string;
  namespace?: string;
}

/** The kinds kubectl expose takes, by plural. */
const EXPOSABLE = ['deployments', 'replicasets', 'pods', 'services'];
const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

interface PortLike { name?: string; port: number; protocol?: string; targetPort?: number | string }
interface ContainerLike { ports?: { name?: string; containerPort: number; protocol?: string }[] }
interface Exposable {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: {
    selector?: Record<string, string> | { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    template?: { spec?: { containers?: ContainerLike[] } };
    containers?: ContainerLike[];
    ports?: PortLike[];
  };
}

/** `k=v,k2=v2` as a map. Throws CliError for anything else. */
export function parseSelectorMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=!\s]+)==?([^=!\s]*)$/.exec(part);
    if (!m) throw new CliError(`--selector "${text}": only equality selectors such as app=web,tier=fe are allowed in a service's selector`);
    out[m[1]] = m[2];
  }
  if (Object.keys(out).length === 0) throw new CliError(`--selector "${text}" selects nothing: give key=value pairs such as app=web`);
  return out;
}

/** The selector the object gives a service; undefined when it has none. Throws CliError for one with expressions. */
function selectorOf(plural: string, o: Exposable): Record<string, string> | undefined {
  if (plural === 'pods') return o.metadata.labels && Object.keys(o.metadata.labels).length ? { ...o.metadata.labels } : undefined;
  const sel = o.spec?.selector;
  if (!sel) return undefined;
  if (plural === 'services') return Object.keys(sel).length ? { ...(sel as Record<string, string>) } : undefined;
  const ls = sel as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  if (ls.matchExpressions?.length) {
    throw new CliError(`couldn't convert the selector of ${plural} "${o.metadata.name}" to a service selector: it has matchExpressions; give one with --selector`);
  }
  return ls.matchLabels && Object.keys(ls.matchLabels).length ? { ...ls.matchLabels } : undefined;
}

/** The ports the object offers: a service's, or every container port of the pod (template). */
function portsOf(plural: string, o: Exposable): PortLike[] {
  if (plural === 'services') return (o.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port }));
  const containers = plural === 'pods' ? o.spec?.containers : o.spec?.template?.spec?.containers;
  return (containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol ?? 'TCP', targetPort: p.containerPort })));
}

/**
 * The Service that exposes `obj` (of kind `plural`). Throws CliError for what kubectl refuses:
 * no selector found, no port found, a bad --type, --protocol, --target-port or --port.
 */
export function serviceFor(plural: string, obj: KubeObject, opts: ExposeOptions): KubeObject {
  const o = obj as unknown as Exposable;
  if (opts.type !== undefined && !TYPES.includes(opts.type)) throw new CliError(`--type "${opts.type}": must be one of ${TYPES.join(', ')}`);
  if (opts.protocol !== undefined && !PROTOCOLS.includes(opts.protocol)) throw new CliError(`--protocol "${opts.protocol}": must be one of ${PROTOCOLS.join(', ')}`);
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535)) {
    throw new CliError(`--port ${opts.port}: must be between 1 and 65535, inclusive`);
  }
  const selector = opts.selector !== undefined ? parseSelectorMap(opts.selector) : selectorOf(plural, o);
  if (!selector) throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: ${plural} "${o.metadata.name}" has none`);
  let ports: PortLike[] = opts.port !== undefined ? [{ port: opts.port, protocol: opts.protocol ?? 'TCP' }] : portsOf(plural, o);
  if (ports.length === 0) throw new CliError(`couldn't find port via --port flag or introspection: ${plural} "${o.metadata.name}" names no port; give one with --port`);
  if (opts.protocol) ports = ports.map((p) => ({ ...p, protocol: opts.protocol }));
  let target: number | string | undefined;
  if (opts.targetPort !== undefined) {
    target = /^\d+$/.test(opts.targetPort) ? Number(opts.targetPort) : opts.targetPort;
    if (typeof target === 'number' && (target < 1 || target > 65535)) throw new CliError(`--target-port ${opts.targetPort}: must be between 1 and 65535, inclusive`);
  }
  const named = ports.length > 1;
  const spec: Record<string, unknown> = {
    ports: ports.map((p, i) => ({
      ...(named ? { name: p.name ?? `port-${i + 1}` } : p.name ? { name: p.name } : {}),
      port: p.port, protocol: p.protocol ?? 'TCP', targetPort: target ?? p.targetPort ?? p.port,
    })),
    selector,
  };
  if (opts.type) spec.type = opts.type;
  if (opts.clusterIP) spec.clusterIP = opts.clusterIP;
  const labels = o.metadata.labels && Object.keys(o.metadata.labels).length ? { ...o.metadata.labels } : undefined;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: opts.name ?? o.metadata.name, ...(labels ? { labels } : {}) },
    spec,
  } as KubeObject;
}

/**
 * Makes the service for the one object `targets` names (`KIND NAME` or `KIND/NAME`), after
 * reading it. Returns kubectl's line and the service as stored (as built, for a client dry run,
 * which writes nothing). Throws CliError for a kind that cannot be exposed and the api's errors.
 */
export async function expose(api: Api, targets: string[], opts: ExposeOptions, dryRun: 'none' | 'client' | 'server' = 'none'): Promise<{ line: string; service: KubeObject }> {
  const [first, ...rest] = targets;
  if (first === undefined) throw new CliError('give the object to expose: KIND NAME or KIND/NAME (deployment/web)');
  const { kind, names } = parseTargets(first, rest);
  if (!EXPOSABLE.includes(kind.plural)) throw new CliError(`cannot expose a ${kind.kind}: only deployments, replica sets, pods and services can be exposed`);
  if (names.length !== 1) throw new CliError(`give exactly one ${kind.singular} to expose (got ${names.length})`);
  const namespace = namespaceFor(kind, opts.namespace);
  const obj = await api.get(kind, namespace, names[0]);
  let service = serviceFor(kind.plural, obj, opts);
  if (dryRun !== 'client') {
    service = (await api.create({ object: service, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) })).object;
  }
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  return { line: `${ServiceKind.singular}/${service.metadata.name} exposed${suffix}\n`, service };
}
