/**
 * How `mk describe` shows an environment variable that comes from elsewhere, in kubectl's words
 * (kubectl pkg/describe: describeContainerEnvVars), without reading the ConfigMap or Secret.
 */
import type { EnvVarSource } from '../env-source';

/** The value column of a variable: its value, or where it comes from. */
export function envValueText(e: { value?: string; valueFrom?: EnvVarSource }): string {
  const f = e.valueFrom;
  if (!f) return e.value ?? '';
  if (f.fieldRef) return `(${f.fieldRef.apiVersion ?? 'v1'}:${f.fieldRef.fieldPath})`;
  if (f.resourceFieldRef) return `(${f.resourceFieldRef.containerName ? `${f.resourceFieldRef.containerName}/` : ''}${f.resourceFieldRef.resource})`;
  if (f.configMapKeyRef) {
    return `<set to the key '${f.configMapKeyRef.key}' of config map '${f.configMapKeyRef.name}'>\tOptional: ${f.configMapKeyRef.optional ?? false}`;
  }
  if (f.secretKeyRef) return `<set to the key '${f.secretKeyRef.key}' in secret '${f.secretKeyRef.name}'>\tOptional: ${f.secretKeyRef.optional ?? false}`;
  return '';
}

/** kubectl's lines under `Environment Variables from:`: `NAME  ConfigMap  Optional: false`. */
export function envFromLines(list: readonly { prefix?: string; configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[]): string[] {
  return list.map((f) => {
    const ref = f.configMapRef ?? f.secretRef!;
    const kind = f.configMapRef ? 'ConfigMap' : 'Secret';
    const prefix = f.prefix ? ` with prefix '${f.prefix}'` : '';
    return `${ref.name}\t${kind}${prefix}\tOptional: ${ref.optional ?? false}`;
  });
}
