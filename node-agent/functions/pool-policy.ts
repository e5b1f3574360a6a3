/**
 * The warm pool's pure rules: which pods may take a warm container (eligibility), how large the
 * pool of each runtime is (its base size, grown by recent cold starts and bounded), and how the
 * size is read from the environment. No I/O.
 */
import { FUNCTION_CODE_CSI_DRIVER, FUNCTION_LABEL, RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import type { Pod } from '../../messages/pod';
import { runtimeOfImage } from '../images/on-demand';
import { CODE_DIR, type FunctionRuntime } from '../images/runtime-images';
import { RECENT_COLD_START_MS } from './pool-size';

export { DEFAULT_POOL_SIZE, MAX_POOL_SIZE, parsePoolSize, POOL_SIZE_ENV, RECENT_COLD_START_MS } from './pool-size';

/** The most members a runtime's pool grows to: twice its base size, at most 8, never below the base. */
export function poolCap(base: number): number {
  return Math.max(base, Math.min(2 * base, 8));
}

/**
 * How many members a runtime's pool should hold now: its base size plus one per cold start
 * (taken or missed) in the last RECENT_COLD_START_MS, up to poolCap. As cold starts age out the
 * target falls back to the base, and idle members beyond it are removed. 0 stays 0.
 */
export function poolTarget(base: number, coldStarts: readonly number[], now: number): number {
  if (base <= 0) return 0;
  const recent = coldStarts.filter((t) => now - t < RECENT_COLD_START_MS).length;
  return Math.min(poolCap(base), base + recent);
}

/** A pod's eligibility for a warm container: its runtime, or why it cannot take one. */
export type Eligibility = { runtime: FunctionRuntime } | { reason: string };

// Container fields a pool member has or that the adoption applies (defaults included).
const CONTAINER_FIELDS = new Set([
  'name', 'image', 'imagePullPolicy', 'env', 'ports', 'readinessProbe', 'livenessProbe', 'startupProbe', 'volumeMounts',
  'terminationMessagePath', 'terminationMessagePolicy', 'resources',
]);
// Pod spec fields that change nothing in the sandbox or the container.
const POD_FIELDS = new Set([
  'containers', 'volumes', 'restartPolicy', 'terminationGracePeriodSeconds', 'dnsPolicy', 'nodeName', 'nodeSelector', 'affinity',
  'tolerations', 'schedulerName', 'topologySpreadConstraints', 'schedulingGates',
]);

const present = (v: unknown): boolean => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);

/**
 * Whether `pod` may take a warm container of the pool instead of a sandbox and container of its
 * own: a Function's instance pod (label mk.io/function) with one container of a runtime image
 * (its `:latest` name, which the members run), the code from one `functions.mk.io` csi volume at
 * /code, one of MK_FUNCTION_HANDLER or MK_FUNCTION_COMMAND, and nothing a member lacks: no
 * command or args, no securityContext, no lifecycle hooks, no host ports, the default DNS and
 * hosts, no init containers. Resource requests and limits are applied to the member at adoption.
 */
export function poolEligibility(pod: Pod): Eligibility {
  const spec = pod.spec;
  if (!pod.metadata.labels?.[FUNCTION_LABEL]) return { reason: `not a function instance (no ${FUNCTION_LABEL} label)` };
  for (const [k, v] of Object.entries(spec)) {
    if (!POD_FIELDS.has(k) && present(v)) return { reason: `spec.${k} is set` };
  }
  if ((spec.dnsPolicy ?? 'ClusterFirst') !== 'ClusterFirst') return { reason: `dnsPolicy is ${spec.dnsPolicy}` };
  if (spec.containers.length !== 1) return { reason: `${spec.containers.length} containers` };
  const c = spec.containers[0];
  for (const [k, v] of Object.entries(c)) {
    if (!CONTAINER_FIELDS.has(k) && present(v)) return { reason: `container field ${k} is set` };
  }
  const runtime = runtimeOfImage(c.image);
  if (!runtime) return { reason: `image ${c.image} is not a runtime image` };
  if (c.image !== RUNTIME_IMAGE_LATEST[runtime]) return { reason: `image ${c.image} is not ${RUNTIME_IMAGE_LATEST[runtime]}` };
  if (c.imagePullPolicy === 'Always') return { reason: 'imagePullPolicy is Always' };
  if ((c.ports ?? []).some((p) => p.hostPort !== undefined)) return { reason: 'a port asks for a host port' };
  const volumes = spec.volumes ?? [];
  if (volumes.length !== 1 || volumes[0].csi?.driver !== FUNCTION_CODE_CSI_DRIVER) {
    return { reason: `volumes other than one ${FUNCTION_CODE_CSI_DRIVER} csi volume` };
  }
  const mounts = c.volumeMounts ?? [];
  const m = mounts[0];
  if (mounts.length !== 1 || m.name !== volumes[0].name || m.mountPath !== CODE_DIR || present(m.subPath) || present(m.subPathExpr)) {
    return { reason: `the code volume is not mounted as a whole at ${CODE_DIR}` };
  }
  const env = c.env ?? [];
  const how = env.filter((e) => (e.name === 'MK_FUNCTION_HANDLER' || e.name === 'MK_FUNCTION_COMMAND') && (e.value ?? '') !== '');
  if (how.length !== 1 || how[0].valueFrom) return { reason: 'not exactly one of MK_FUNCTION_HANDLER and MK_FUNCTION_COMMAND' };
  if (env.some((e) => e.name === 'MK_FUNCTION_PORT' || e.name === 'MK_FUNCTION_HOST' || e.name === 'MK_FUNCTION_CODE_DIR')) {
    return { reason: 'the env sets where the loader listens or reads its code' };
  }
  if (env.some((e) => e.valueFrom?.fieldRef?.fieldPath.startsWith('status.'))) {
    return { reason: "the env refers to the pod's status (its IP is the member's, known only once taken)" };
  }
  return { runtime };
}
