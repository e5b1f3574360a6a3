/**
 * The files of ConfigMap, Secret and downwardAPI volumes, as kubelet projects them
 * (https://kubernetes.io/docs/concepts/storage/volumes/#configmap,
 * https://kubernetes.io/docs/concepts/storage/volumes/#secret,
 * https://kubernetes.io/docs/concepts/workloads/pods/downward-api/): every key as a file, or only
 * `items` (key -> path), each with its mode or the volume's defaultMode (0644). Pure, apart from
 * reading the objects.
 */
import type { ConfigMap, Secret } from '../../messages/config-data';
import { SUBSCRIPTED_FIELD } from '../../messages/env-source';
import type { Pod } from '../../messages/pod';
import { fieldValue, resourceValue, type EnvContext, type EnvObjects } from '../pods/env';
import { isContainerConfigError } from '../pods/errors';
import { payloadPathError, type Payload } from './atomic-writer';
import { VolumeError } from './errors';
import type { ConfigMapVolumeSource, DownwardAPIVolumeSource, KeyToPath, SecretVolumeSource } from './types';

/** Kubernetes' default mode of projected files: 0644. */
export const DEFAULT_MODE = 0o644;

function checkMode(volume: string, mode: number | undefined, what: string): void {
  if (mode === undefined) return;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new VolumeError(volume, `${what} ${mode} must be an integer from 0 to 0777 (511)`);
  }
}

function checkPath(volume: string, p: string): void {
  const err = payloadPathError(p);
  if (err) throw new VolumeError(volume, `volume "${volume}": ${err}`);
}

/**
 * Files from an object's keys. `items` picks keys and names their files; a key it names that
 * the object lacks is an error, unless the volume is optional.
 */
function keysPayload(
  volume: string, what: string, values: Record<string, Buffer>, src: { items?: KeyToPath[]; defaultMode?: number; optional?: boolean },
): Payload {
  checkMode(volume, src.defaultMode, 'defaultMode');
  const mode = src.defaultMode ?? DEFAULT_MODE;
  const out: Payload = {};
  if (!src.items || src.items.length === 0) {
    for (const [k, v] of Object.entries(values)) {
      checkPath(volume, k);
      out[k] = { content: v, mode };
    }
    return out;
  }
  for (const item of src.items) {
    checkMode(volume, item.mode, `items[${item.key}].mode`);
    checkPath(volume, item.path);
    const v = values[item.key];
    if (v === undefined) {
      if (src.optional) continue;
      throw new VolumeError(volume, `configuration error: key "${item.key}" is not in ${what}`);
    }
    out[item.path] = { content: v, mode: item.mode ?? mode };
  }
  return out;
}

/**
 * A configMap volume's files. A missing ConfigMap is an empty volume when optional, else a
 * VolumeError; errors reading it (the control plane away) are thrown as they are.
 */
export async function configMapPayload(volume: string, src: ConfigMapVolumeSource, objects: EnvObjects, namespace: string): Promise<Payload> {
  const cm: ConfigMap | undefined = await objects.configMap(src.name);
  if (!cm) {
    if (src.optional) return {};
    throw new VolumeError(volume, `configmap "${src.name}" not found`);
  }
  const values: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) values[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) values[k] = Buffer.from(v, 'base64');
  return keysPayload(volume, `ConfigMap ${namespace}/${src.name}`, values, src);
}

/** A secret volume's files (decoded); a missing Secret as for configMapPayload. */
export async function secretPayload(volume: string, src: SecretVolumeSource, objects: EnvObjects, namespace: string): Promise<Payload> {
  const s: Secret | undefined = await objects.secret(src.secretName);
  if (!s) {
    if (src.optional) return {};
    throw new VolumeError(volume, `secret "${src.secretName}" not found`);
  }
  const values: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) values[k] = Buffer.from(v, 'base64');
  return keysPayload(volume, `Secret ${namespace}/${src.secretName}`, values, src);
}

/**
 * A map as the downward API writes it: one `key="value"` line per entry, sorted by key, the value
 * quoted (kubernetes/kubernetes pkg/fieldpath/fieldpath.go FormatMap).
 */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

const METADATA_FIELDS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations'];

/**
 * A downwardAPI volume's files: metadata fields (labels and annotations whole or by key) and
 * containers' resource limits and requests (env.ts's resourceValue, the node's allocatable for a
 * limit not set). A field or container it cannot give is a VolumeError.
 */
export function downwardAPIPayload(
  volume: string, pod: Pod, src: DownwardAPIVolumeSource, ctx: Pick<EnvContext, 'allocatable'>,
): Payload {
  checkMode(volume, src.defaultMode, 'defaultMode');
  const out: Payload = {};
  for (const item of src.items ?? []) {
    checkPath(volume, item.path);
    checkMode(volume, item.mode, `items[${item.path}].mode`);
    const mode = item.mode ?? src.defaultMode ?? DEFAULT_MODE;
    if (item.fieldRef) {
      const p = item.fieldRef.fieldPath;
      let content: string;
      if (p === 'metadata.labels') content = formatMap(pod.metadata.labels);
      else if (p === 'metadata.annotations') content = formatMap(pod.metadata.annotations);
      else if (METADATA_FIELDS.includes(p) || SUBSCRIPTED_FIELD.test(p)) content = fieldValue(pod, p, {});
      else {
        throw new VolumeError(volume, `fieldPath "${p}" is not supported in a downwardAPI volume: use ${METADATA_FIELDS.join(', ')}, `
          + "metadata.labels['<key>'] or metadata.annotations['<key>']");
      }
      out[item.path] = { content, mode };
    } else if (item.resourceFieldRef) {
      const ref = item.resourceFieldRef;
      if (!ref.containerName) throw new VolumeError(volume, `items[${item.path}].resourceFieldRef.containerName is required in a volume`);
      if (!['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'].includes(ref.resource)) {
        throw new VolumeError(volume, `resource "${ref.resource}" is not supported: use limits.cpu, limits.memory, requests.cpu or requests.memory`);
      }
      try {
        out[item.path] = { content: resourceValue(pod, pod.spec.containers[0], ref, ctx), mode };
      } catch (e) {
        if (isContainerConfigError(e)) throw new VolumeError(volume, e.message);
        throw e;
      }
    } else {
      throw new VolumeError(volume, `items[${item.path}] needs a fieldRef or a resourceFieldRef`);
    }
  }
  return out;
}
