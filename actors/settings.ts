/**
 * The control plane's settings that users may change: how long a node may stay silent before it
 * is Unknown, the default tolerations pods get for a node that is not ready or unreachable, and
 * the range nodes' pod CIDRs are cut from. They come from runControlPlane's options (mk
 * control-plane's flags), else from the environment, else Kubernetes' defaults (in parentheses,
 * the Kubernetes flag each stands for):
 *   --node-monitor-grace-period / MK_NODE_MONITOR_GRACE_PERIOD   40s
 *     (kube-controller-manager --node-monitor-grace-period)
 *   --default-not-ready-toleration-seconds / MK_DEFAULT_NOT_READY_TOLERATION_SECONDS   300
 *     (kube-apiserver --default-not-ready-toleration-seconds)
 *   --default-unreachable-toleration-seconds / MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS   300
 *     (kube-apiserver --default-unreachable-toleration-seconds)
 *   --cluster-cidr / MK_CLUSTER_CIDR   10.244.0.0/16   (kube-controller-manager --cluster-cidr)
 *   --node-cidr-mask-size / MK_NODE_CIDR_MASK_SIZE   24   (kube-controller-manager --node-cidr-mask-size)
 *   --service-cluster-ip-range / MK_SERVICE_CLUSTER_IP_RANGE   10.96.0.0/12
 *     (kube-apiserver --service-cluster-ip-range)
 *   --service-node-port-range / MK_SERVICE_NODE_PORT_RANGE   30000-32767
 *     (kube-apiserver --service-node-port-range)
 */
import { ValidationError } from '../messages';
import { parseDuration } from '../messages/duration';
import { checkNodeMaskSize, parseIpv4Cidr } from './node/cidr';
import { parsePortRange, parseServiceCidr } from './service/ranges';

export { parseDuration };

/** The settings, resolved. */
export interface ControlPlaneSettings {
  /** A node whose last heartbeat is older than this is marked Ready=Unknown (and tainted unreachable). */
  nodeMonitorGracePeriodMs: number;
  /** tolerationSeconds of the not-ready:NoExecute toleration added to pods that have none. */
  defaultNotReadyTolerationSeconds: number;
  /** tolerationSeconds of the unreachable:NoExecute toleration added to pods that have none. */
  defaultUnreachableTolerationSeconds: number;
  /** The IPv4 range every node's pod CIDR is cut from. */
  clusterCidr: string;
  /** The prefix length of each node's pod CIDR (longer than the cluster CIDR's). */
  nodeCidrMaskSize: number;
  /** The IPv4 range Services' cluster IPs are allocated from. */
  serviceClusterIpRange: string;
  /** The ports NodePort and LoadBalancer Services' node ports are allocated from, `first-last`. */
  serviceNodePortRange: string;
}

/** Kubernetes' defaults. */
export const DEFAULT_SETTINGS: ControlPlaneSettings = {
  nodeMonitorGracePeriodMs: 40_000,
  defaultNotReadyTolerationSeconds: 300,
  defaultUnreachableTolerationSeconds: 300,
  clusterCidr: '10.244.0.0/16',
  nodeCidrMaskSize: 24,
  serviceClusterIpRange: '10.96.0.0/12',
  serviceNodePortRange: '30000-32767',
};

/** The environment variable of each setting. */
export const SETTINGS_ENV = {
  nodeMonitorGracePeriodMs: 'MK_NODE_MONITOR_GRACE_PERIOD',
  defaultNotReadyTolerationSeconds: 'MK_DEFAULT_NOT_READY_TOLERATION_SECONDS',
  defaultUnreachableTolerationSeconds: 'MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS',
  clusterCidr: 'MK_CLUSTER_CIDR',
  nodeCidrMaskSize: 'MK_NODE_CIDR_MASK_SIZE',
  serviceClusterIpRange: 'MK_SERVICE_CLUSTER_IP_RANGE',
  serviceNodePortRange: 'MK_SERVICE_NODE_PORT_RANGE',
} as const;

/** The mk control-plane flag of each setting. */
export const SETTINGS_FLAG = {
  nodeMonitorGracePeriodMs: '--node-monitor-grace-period',
  defaultNotReadyTolerationSeconds: '--default-not-ready-toleration-seconds',
  defaultUnreachableTolerationSeconds: '--default-unreachable-toleration-seconds',
  clusterCidr: '--cluster-cidr',
  nodeCidrMaskSize: '--node-cidr-mask-size',
  serviceClusterIpRange: '--service-cluster-ip-range',
  serviceNodePortRange: '--service-node-port-range',
} as const;

/** The settings as text, the way flags (or a file) give them, before they are checked. */
export type SettingsText = Partial<Record<keyof ControlPlaneSettings, string>>;

/** Parses a whole number of seconds, zero or more; throws ValidationError naming `what`. */
export function parseSeconds(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ValidationError(`${what}: "${text}" must be a whole number of seconds, 0 or more`);
  return Number(text.trim());
}

/** Parses a node mask size (a whole number); its range is checked with the cluster CIDR. */
function parseMaskSize(text: string, what: string): number {
  if (!/^\d{1,2}$/.test(text.trim())) throw new ValidationError(`${what}: "${text}" must be a prefix length such as 24`);
  return Number(text.trim());
}

const PARSE: { [K in keyof ControlPlaneSettings]: (text: string, what: string) => ControlPlaneSettings[K] } = {
  nodeMonitorGracePeriodMs: (t, w) => parseDuration(t, w),
  defaultNotReadyTolerationSeconds: parseSeconds,
  defaultUnreachableTolerationSeconds: parseSeconds,
  clusterCidr: (t, w) => { parseIpv4Cidr(t, w); return t.trim(); },
  nodeCidrMaskSize: parseMaskSize,
  serviceClusterIpRange: (t, w) => { parseServiceCidr(t, w); return t.trim(); },
  serviceNodePortRange: (t, w) => { parsePortRange(t, w); return t.trim(); },
};

/**
 * Parses settings given as text (mk control-plane's flags), naming the flag in any error.
 * Throws ValidationError for the first bad one.
 */
export function parseSettingsFlags(text: SettingsText): Partial<ControlPlaneSettings> {
  const out: Partial<Record<keyof ControlPlaneSettings, unknown>> = {};
  for (const k of Object.keys(PARSE) as (keyof ControlPlaneSettings)[]) {
    const t = text[k];
    if (t !== undefined) out[k] = PARSE[k](t, SETTINGS_FLAG[k]);
  }
  return out as Partial<ControlPlaneSettings>;
}

/**
 * The settings from `given`, else `env`, else the defaults. Throws ValidationError for a value
 * that does not parse, naming the variable, and for a node mask size that does not fit the
 * cluster CIDR, naming where each came from (`givenFrom`: what to call a given setting; the
 * mk control-plane flags unless said otherwise).
 */
export function resolveSettings(
  given: Partial<ControlPlaneSettings> = {}, env: NodeJS.ProcessEnv = process.env,
  givenFrom: Partial<Record<keyof ControlPlaneSettings, string>> = SETTINGS_FLAG,
): ControlPlaneSettings {
  const from: Partial<Record<keyof ControlPlaneSettings, string>> = {};
  const pick = <K extends keyof ControlPlaneSettings>(k: K): ControlPlaneSettings[K] => {
    if (given[k] !== undefined) { from[k] = givenFrom[k] ?? k; return given[k]!; }
    const e = env[SETTINGS_ENV[k]];
    if (e) { from[k] = SETTINGS_ENV[k]; return PARSE[k](e, SETTINGS_ENV[k]); }
    return DEFAULT_SETTINGS[k];
  };
  const s: ControlPlaneSettings = {
    nodeMonitorGracePeriodMs: pick('nodeMonitorGracePeriodMs'),
    defaultNotReadyTolerationSeconds: pick('defaultNotReadyTolerationSeconds'),
    defaultUnreachableTolerationSeconds: pick('defaultUnreachableTolerationSeconds'),
    clusterCidr: pick('clusterCidr'),
    nodeCidrMaskSize: pick('nodeCidrMaskSize'),
    serviceClusterIpRange: pick('serviceClusterIpRange'),
    serviceNodePortRange: pick('serviceNodePortRange'),
  };
  const cidrFrom = from.clusterCidr ? ` (cluster CIDR ${s.clusterCidr} from ${from.clusterCidr})` : ` (cluster CIDR ${s.clusterCidr})`;
  try {
    checkNodeMaskSize(s.nodeCidrMaskSize, parseIpv4Cidr(s.clusterCidr, from.clusterCidr ?? 'cluster CIDR'), from.nodeCidrMaskSize ?? 'node CIDR mask size');
  } catch (e) {
    throw new ValidationError(`${(e as Error).message}${cidrFrom}`);
  }
  return s;
}

/**
 * The settings of the control plane running in this process. Pod defaulting reads them (kind
 * modules' defaults take no context); runControlPlane sets them at start. One control plane per
 * process is what production runs; in-process tests that start two share these.
 */
let current: ControlPlaneSettings = DEFAULT_SETTINGS;

/** Makes `s` the settings of this process's control plane. */
export function useSettings(s: ControlPlaneSettings): void {
  current = s;
}

/** The settings of this process's control plane. */
export function currentSettings(): ControlPlaneSettings {
  return current;
}
