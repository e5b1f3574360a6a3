/**
 * A container's environment, command and args as the node creates it, the way kubelet's
 * makeEnvironmentVariables does (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go): envFrom
 * first, in order, then env in order; a plain value may refer to the variables before it with
 * `$(NAME)`; command and args are expanded with the result. Values from fields, resources,
 * ConfigMaps and Secrets are taken as they are, never expanded.
 * https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
 */
import type { ConfigMap, Secret } from '../../messages/config-data';
import type { PersistentVolume, PersistentVolumeClaim } from '../../messages/persistent-volume';
import { envVarNameError, SUBSCRIPTED_FIELD, type EnvVarSource } from '../../messages/env-source';
import type { Container, Pod } from '../../messages/pod';
import { cpuMillis, memoryBytes } from '../../messages/quantity';
import { ContainerConfigError } from './errors';

export { ContainerConfigError } from './errors';

/**
 * Replaces `$(NAME)` in `input` by `lookup(NAME)`; a name lookup does not know stays `$(NAME)`
 * as written, `$$` is one `$`, and any other `$` (an unclosed `$(` too) is kept
 * (the rules of kubernetes/kubernetes third_party/forked/golang/expansion).
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/**
 * How the node reads the ConfigMaps and Secrets of the pod's namespace, and the claims its volumes
 * name with the volumes they are bound to; undefined = not found. A node that cannot read claims
 * leaves claim and volume out.
 */
export interface EnvObjects {
  configMap(name: string): Promise<ConfigMap | undefined>;
  secret(name: string): Promise<Secret | undefined>;
  claim?(name: string): Promise<PersistentVolumeClaim | undefined>;
  volume?(name: string): Promise<PersistentVolume | undefined>;
}

/** What a node without access to ConfigMaps and Secrets sees: none exist. */
export const NO_OBJECTS: EnvObjects = { configMap: async () => undefined, secret: async () => undefined };

/** What resolution needs besides the pod and the container. */
export interface EnvContext {
  objects: EnvObjects;
  hostIP?: string;
  /** The pod's IPs, the first one its podIP (from the sandbox the container goes into). */
  podIPs?: string[];
  /** The node's allocatable: what a limit the container does not set stands for. */
  allocatable?: { cpu?: string | number; memory?: string | number };
  /** Called for every envFrom source some of whose keys were skipped (kubelet's event). */
  warn?(reason: string, message: string): void;
}

/** The container's environment in order (later names replace earlier ones), command and args. */
export interface ResolvedContainer {
  env: { name: string; value: string }[];
  command?: string[];
  args?: string[];
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/**
 * Resolves `c`'s environment and expands its command and args. Throws ContainerConfigError
 * naming what is missing; other errors (the control plane not answering) are thrown as they are.
 */
export async function resolveContainer(pod: Pod, c: Container, ctx: EnvContext): Promise<ResolvedContainer> {
  const ns = pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let values: Record<string, string>;
    let what: string;
    if (from.configMapRef) {
      const cm = await ctx.objects.configMap(from.configMapRef.name);
      what = `configMap ${ns}/${from.configMapRef.name}`;
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      values = cm.data ?? {};
    } else {
      const name = from.secretRef!.name;
      const s = await ctx.objects.secret(name);
      what = `secret ${ns}/${name}`;
      if (!s) {
        if (from.secretRef!.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      values = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
    }
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(values)) {
      const name = prefix + k;
      if (envVarNameError(name)) { invalid.push(name); continue; }
      env.delete(name);
      env.set(name, v);
    }
    if (invalid.length > 0) {
      ctx.warn?.('InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
    }
  }
  for (const e of c.env ?? []) {
    let value: string | undefined;
    if (e.valueFrom) value = await fromSource(pod, c, e.valueFrom, ctx);
    else value = expand(e.value ?? '', (n) => env.get(n));
    if (value === undefined) continue;
    env.delete(e.name);
    env.set(e.name, value);
  }
  const lookup = (n: string): string | undefined => env.get(n);
  return {
    env: [...env].map(([name, value]) => ({ name, value })),
    ...(c.command ? { command: c.command.map((s) => expand(s, lookup)) } : {}),
    ...(c.args ? { args: c.args.map((s) => expand(s, lookup)) } : {}),
  };
}

/** One valueFrom's value; undefined when an optional reference is missing (no variable then). */
async function fromSource(pod: Pod, c: Container, src: EnvVarSource, ctx: EnvContext): Promise<string | undefined> {
  const ns = pod.metadata.namespace ?? 'default';
  if (src.fieldRef) return fieldValue(pod, src.fieldRef.fieldPath, ctx);
  if (src.resourceFieldRef) return resourceValue(pod, c, src.resourceFieldRef, ctx);
  if (src.configMapKeyRef) {
    const ref = src.configMapKeyRef;
    const cm = await ctx.objects.configMap(ref.name);
    if (!cm) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`configmap "${ref.name}" not found`);
    }
    const v = cm.data?.[ref.key];
    if (v === undefined && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
    return v;
  }
  const ref = src.secretKeyRef!;
  const s = await ctx.objects.secret(ref.name);
  if (!s) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`secret "${ref.name}" not found`);
  }
  const v = s.data?.[ref.key];
  if (v === undefined && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
  return v === undefined ? undefined : decode(v);
}

/** A fieldRef's value (Kubernetes' podFieldSelectorRuntimeValue); a missing label is empty. */
export function fieldValue(pod: Pod, path: string, ctx: Pick<EnvContext, 'hostIP' | 'podIPs'>): string {
  const sub = SUBSCRIPTED_FIELD.exec(path);
  if (sub) {
    const map = sub[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[sub[2]] ?? '';
  }
  const ips = ctx.podIPs ?? pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  const hostIP = ctx.hostIP ?? pod.status?.hostIP ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default';
    case 'metadata.uid': return pod.metadata.uid ?? '';
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName': return (pod.spec as { serviceAccountName?: string }).serviceAccountName ?? '';
    case 'status.hostIP': return hostIP;
    case 'status.hostIPs': return hostIP;
    case 'status.podIP': return ips[0] ?? '';
    case 'status.podIPs': return ips.join(',');
    default: throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
  }
}

/**
 * A resourceFieldRef's value, rounded up to a whole number of `divisor` (Kubernetes'
 * ExtractContainerResourceValue). A limit the container does not set is the node's allocatable;
 * a request it does not set is its limit if it has one (as admission defaults it), else 0.
 */
export function resourceValue(
  pod: Pod, c: Container, ref: { containerName?: string; resource: string; divisor?: string | number },
  ctx: Pick<EnvContext, 'allocatable'>,
): string {
  const target = ref.containerName
    ? [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === ref.containerName)
    : c;
  if (!target) throw new ContainerConfigError(`resourceFieldRef: container "${ref.containerName}" is not in the pod`);
  const [kind, resource] = ref.resource.split('.') as ['limits' | 'requests', 'cpu' | 'memory'];
  const r = target.resources;
  const q = kind === 'limits'
    ? r?.limits?.[resource] ?? ctx.allocatable?.[resource]
    : r?.requests?.[resource] ?? r?.limits?.[resource];
  if (resource === 'cpu') {
    const divisor = cpuMillis(ref.divisor ?? 1) || 1;
    return String(Math.ceil(cpuMillis(q) / divisor));
  }
  const divisor = memoryBytes(ref.divisor ?? 1) || 1;
  return String(Math.ceil(memoryBytes(q) / divisor));
}
