/**
 * The control plane's settings that users may change: how long a node may stay silent before it
 * is Unknown, and the default tolerations pods get for a node that is not ready or unreachable.
 * They come from runControlPlane's options, else from the environment, else Kubernetes' defaults
 * (in parentheses, the Kubernetes flag each stands for):
 *   MK_NODE_MONITOR_GRACE_PERIOD            40s  (kube-controller-manager --node-monitor-grace-period)
 *   MK_DEFAULT_NOT_READY_TOLERATION_SECONDS 300  (kube-apiserver --default-not-ready-toleration-seconds)
 *   MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS 300 (kube-apiserver --default-unreachable-toleration-seconds)
 */
import { ValidationError } from '../messages';
import { parseDuration } from '../messages/duration';

export { parseDuration };

/** The settings, resolved. */
export interface ControlPlaneSettings {
  /** A node whose last heartbeat is older than this is marked Ready=Unknown (and tainted unreachable). */
  nodeMonitorGracePeriodMs: number;
  /** tolerationSeconds of the not-ready:NoExecute toleration added to pods that have none. */
  defaultNotReadyTolerationSeconds: number;
  /** tolerationSeconds of the unreachable:NoExecute toleration added to pods that have none. */
  defaultUnreachableTolerationSeconds: number;
}

/** Kubernetes' defaults. */
export const DEFAULT_SETTINGS: ControlPlaneSettings = {
  nodeMonitorGracePeriodMs: 40_000,
  defaultNotReadyTolerationSeconds: 300,
  defaultUnreachableTolerationSeconds: 300,
};

/** The environment variable of each setting. */
export const SETTINGS_ENV = {
  nodeMonitorGracePeriodMs: 'MK_NODE_MONITOR_GRACE_PERIOD',
  defaultNotReadyTolerationSeconds: 'MK_DEFAULT_NOT_READY_TOLERATION_SECONDS',
  defaultUnreachableTolerationSeconds: 'MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS',
} as const;

/** Parses a whole number of seconds, zero or more; throws ValidationError naming `what`. */
export function parseSeconds(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ValidationError(`${what}: "${text}" must be a whole number of seconds, 0 or more`);
  return Number(text.trim());
}

/**
 * The settings from `given`, else `env`, else the defaults. Throws ValidationError for a value
 * that does not parse, naming the variable.
 */
export function resolveSettings(given: Partial<ControlPlaneSettings> = {}, env: NodeJS.ProcessEnv = process.env): ControlPlaneSettings {
  const grace = env[SETTINGS_ENV.nodeMonitorGracePeriodMs];
  const notReady = env[SETTINGS_ENV.defaultNotReadyTolerationSeconds];
  const unreachable = env[SETTINGS_ENV.defaultUnreachableTolerationSeconds];
  return {
    nodeMonitorGracePeriodMs: given.nodeMonitorGracePeriodMs
      ?? (grace ? parseDuration(grace, SETTINGS_ENV.nodeMonitorGracePeriodMs) : DEFAULT_SETTINGS.nodeMonitorGracePeriodMs),
    defaultNotReadyTolerationSeconds: given.defaultNotReadyTolerationSeconds
      ?? (notReady ? parseSeconds(notReady, SETTINGS_ENV.defaultNotReadyTolerationSeconds) : DEFAULT_SETTINGS.defaultNotReadyTolerationSeconds),
    defaultUnreachableTolerationSeconds: given.defaultUnreachableTolerationSeconds
      ?? (unreachable ? parseSeconds(unreachable, SETTINGS_ENV.defaultUnreachableTolerationSeconds) : DEFAULT_SETTINGS.defaultUnreachableTolerationSeconds),
  };
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
