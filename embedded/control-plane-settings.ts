/**
 * The node lifecycle and pod CIDR settings `mk up` gives its control planes (actors/settings.ts:
 * --node-monitor-grace-period, --default-not-ready-toleration-seconds,
 * --default-unreachable-toleration-seconds, --cluster-cidr, --node-cidr-mask-size). They are
 * checked before anything is written, kept as given in `<data-dir>/control-plane-settings.json`
 * (so a later `mk up` without them resumes them; one with them replaces what it names), and
 * passed to every `mk control-plane` the supervisor starts as that command's own flags. The pod
 * CIDR settings are fixed once a cluster exists: its nodes already hold ranges cut from them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../messages';
import {
  DEFAULT_SETTINGS, parseSettingsFlags, resolveSettings, SETTINGS_FLAG, type ControlPlaneSettings, type SettingsText,
} from '../actors/settings';
import { writeSecretFile } from './context';
import { ClusterError } from './errors';
import type { ClusterPaths } from './paths';

export type { SettingsText };

/** The file that keeps the settings. */
export function controlPlaneSettingsFile(paths: ClusterPaths): string {
  return path.join(paths.dataDir, 'control-plane-settings.json');
}

const KEYS = Object.keys(SETTINGS_FLAG) as (keyof ControlPlaneSettings)[];
/** Settings a cluster cannot change once made. */
const FIXED: (keyof ControlPlaneSettings)[] = ['clusterCidr', 'nodeCidrMaskSize'];

/**
 * The settings kept in the data directory (as text), or none. Throws ClusterError for a file
 * that is not a JSON object of strings under the known names.
 */
export function readControlPlaneSettings(paths: ClusterPaths): SettingsText {
  const file = controlPlaneSettingsFile(paths);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ClusterError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ClusterError(`${file} must hold a JSON object`);
  const out: SettingsText = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!KEYS.includes(k as keyof ControlPlaneSettings) || typeof v !== 'string') {
      throw new ClusterError(`${file}: "${k}" is not a setting mk up keeps (${KEYS.join(', ')}), or its value is not a string`);
    }
    out[k as keyof ControlPlaneSettings] = v;
  }
  return out;
}

/**
 * The settings for this start: `given` (mk up's flags) over what the data directory keeps.
 * Writes nothing. Throws ClusterError naming the flag for a value that does not parse (a bad
 * duration, a negative or fractional number of seconds, a malformed CIDR, a mask that does not
 * fit the cluster CIDR), and for a pod CIDR setting other than the one an existing cluster
 * (`exists`) was made with.
 */
export function resolveControlPlaneSettings(
  paths: ClusterPaths, given: SettingsText, exists: boolean, env: NodeJS.ProcessEnv = process.env,
): SettingsText {
  const kept = readControlPlaneSettings(paths);
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as SettingsText;
  const next: SettingsText = { ...kept, ...defined };
  let parsed: Partial<ControlPlaneSettings>;
  try {
    parsed = parseSettingsFlags(next);
    resolveSettings(parsed, env);
  } catch (err) {
    if (err instanceof ValidationError) throw new ClusterError(`mk up ${err.message}`);
    throw err;
  }
  if (exists) {
    const was = parseSettingsFlags(kept);
    for (const k of FIXED) {
      if (defined[k] === undefined) continue;
      const before = was[k] ?? DEFAULT_SETTINGS[k];
      if (parsed[k] !== before) {
        throw new ClusterError(`the cluster in ${paths.dataDir} cuts its nodes' pod CIDRs with ${SETTINGS_FLAG[k]} ${before}; `
          + `it cannot change to ${defined[k]} (leave ${SETTINGS_FLAG[k]} out, or start afresh with \`mk down --purge\`)`);
      }
    }
  }
  return next;
}

/**
 * The pod network the control planes cut node ranges from with `settings`: the setting, else
 * `MK_CLUSTER_CIDR` in `env`, else the default. Throws ValidationError for a bad one.
 */
export function clusterCidrOf(settings: SettingsText, env: NodeJS.ProcessEnv = process.env): string {
  return resolveSettings(parseSettingsFlags(settings), env).clusterCidr;
}

/**
 * The range Services' cluster IPs come from with `settings`: the setting, else
 * `MK_SERVICE_CLUSTER_IP_RANGE` in `env`, else the default. Throws ValidationError for a bad one.
 */
export function serviceCidrOf(settings: SettingsText, env: NodeJS.ProcessEnv = process.env): string {
  return resolveSettings(parseSettingsFlags(settings), env).serviceClusterIpRange;
}

/** Keeps `settings` in the data directory for the supervisor and the next `mk up` (0600). */
export function writeControlPlaneSettings(paths: ClusterPaths, settings: SettingsText): void {
  writeSecretFile(controlPlaneSettingsFile(paths), JSON.stringify(settings, null, 2) + '\n');
}

/** `mk control-plane`'s flags for `settings`, in a fixed order. */
export function controlPlaneSettingsArgs(settings: SettingsText): string[] {
  return KEYS.flatMap((k) => (settings[k] !== undefined ? [SETTINGS_FLAG[k], settings[k]] : []));
}

/**
 * The settings among parsed command-line flags named as SETTINGS_FLAG names them
 * (`node-monitor-grace-period`, ...), as text; flags not given are left out.
 */
export function settingsFromFlags(flags: Record<string, unknown>): SettingsText {
  const out: SettingsText = {};
  for (const k of KEYS) {
    const v = flags[SETTINGS_FLAG[k].slice(2)];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
