/**
 * Where a container's environment may come from besides plain values: the pod's own fields, its
 * container's resources, and keys of ConfigMaps and Secrets
 * (https://kubernetes.io/docs/tasks/inject-data-application/environment-variable-expose-pod-information/,
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-pod-configmap/).
 */
import { z } from 'zod';
import { Quantity } from './meta';

/** The pod fields a fieldRef may name, besides metadata.labels['k'] and metadata.annotations['k']. */
export const FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
] as const;

/** `metadata.labels['key']` or `metadata.annotations['key']`: the map and the key. */
export const SUBSCRIPTED_FIELD = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/** The resources a resourceFieldRef may name. */
export const RESOURCE_FIELDS = ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] as const;

/** Why `name` cannot name an environment variable, or undefined (Kubernetes' IsEnvVarName). */
export function envVarNameError(name: string): string | undefined {
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
    return "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
  }
  return undefined;
}

export const ObjectFieldSelector = z.strictObject({
  apiVersion: z.literal('v1').optional().describe('The version the field path is written in: `v1`, the only one.'),
  fieldPath: z.string().superRefine((p, ctx) => {
    if ((FIELD_PATHS as readonly string[]).includes(p) || SUBSCRIPTED_FIELD.test(p)) return;
    ctx.addIssue({
      code: 'custom',
      message: `unsupported fieldPath "${p}": mk supports ${FIELD_PATHS.join(', ')}, metadata.labels['<key>'] and metadata.annotations['<key>']`,
    });
  }).describe(
    "The pod field to take, such as `metadata.name`, `status.podIP`, `spec.nodeName` or `metadata.labels['app']`. "
    + 'A label or annotation the pod lacks gives an empty value.',
  ),
}).meta({ title: 'ObjectFieldSelector' });

export const ResourceFieldSelector = z.strictObject({
  containerName: z.string().optional().describe('The container whose resources to take; this container when omitted.'),
  resource: z.enum(RESOURCE_FIELDS).describe(
    "The resource: limits.cpu, limits.memory, requests.cpu or requests.memory. A limit the container does not set gives the node's allocatable.",
  ),
  divisor: Quantity.optional().describe(
    'The unit of the value, which is rounded up to a whole number of it: `1` (the default: cores, or bytes), `1m`, `1Mi`, ...',
  ),
}).meta({ title: 'ResourceFieldSelector' });

export const ConfigMapKeySelector = z.strictObject({
  name: z.string().min(1).describe('The ConfigMap, in the pod\'s namespace.'),
  key: z.string().min(1).describe('The key whose value to take.'),
  optional: z.boolean().optional().describe(
    'When true, a missing ConfigMap or key leaves the variable out; otherwise the container waits (CreateContainerConfigError) until it exists.',
  ),
}).meta({ title: 'ConfigMapKeySelector' });

export const SecretKeySelector = z.strictObject({
  name: z.string().min(1).describe('The Secret, in the pod\'s namespace.'),
  key: z.string().min(1).describe('The key whose (decoded) value to take.'),
  optional: z.boolean().optional().describe(
    'When true, a missing Secret or key leaves the variable out; otherwise the container waits (CreateContainerConfigError) until it exists.',
  ),
}).meta({ title: 'SecretKeySelector' });

export const EnvVarSource = z.strictObject({
  fieldRef: ObjectFieldSelector.optional().describe("A field of the pod: its name, namespace, uid, node, IPs, a label or an annotation."),
  resourceFieldRef: ResourceFieldSelector.optional().describe("A container's cpu or memory request or limit."),
  configMapKeyRef: ConfigMapKeySelector.optional().describe("A key of a ConfigMap in the pod's namespace."),
  secretKeyRef: SecretKeySelector.optional().describe("A key of a Secret in the pod's namespace."),
}).superRefine((s, ctx) => {
  const set = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((k) => s[k] !== undefined);
  if (set.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: set.length === 0
        ? 'must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef'
        : `may not have more than one field specified at a time (has ${set.join(', ')})`,
    });
  }
}).meta({ title: 'EnvVarSource' });
export type EnvVarSource = z.infer<typeof EnvVarSource>;

const NamedSource = (kind: string) => z.strictObject({
  name: z.string().min(1).describe(`The ${kind}, in the pod's namespace.`),
  optional: z.boolean().optional().describe(
    `When true, a missing ${kind} adds nothing; otherwise the container waits (CreateContainerConfigError) until it exists.`,
  ),
});

export const EnvFromSource = z.strictObject({
  prefix: z.string().optional().describe('Put before every key to make the variable\'s name.'),
  configMapRef: NamedSource('ConfigMap').meta({ title: 'ConfigMapEnvSource' }).optional().describe(
    "A ConfigMap whose every data key becomes a variable; keys that are not valid variable names are skipped, with an event.",
  ),
  secretRef: NamedSource('Secret').meta({ title: 'SecretEnvSource' }).optional().describe(
    "A Secret whose every key becomes a variable (decoded); keys that are not valid variable names are skipped, with an event.",
  ),
}).superRefine((s, ctx) => {
  if ((s.configMapRef === undefined) === (s.secretRef === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'must specify exactly one of: configMapRef or secretRef' });
  }
}).meta({ title: 'EnvFromSource' });
export type EnvFromSource = z.infer<typeof EnvFromSource>;

/** A reference to a Secret by name, as imagePullSecrets lists them. */
export const LocalObjectReference = z.strictObject({
  name: z.string().min(1).describe('The name of the object, in the pod\'s namespace.'),
}).meta({ title: 'LocalObjectReference' });
