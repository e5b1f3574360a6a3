/**
 * Pod volumes and container volume mounts: the subset of Kubernetes' v1 Volume and VolumeMount
 * that mk supports (https://kubernetes.io/docs/concepts/storage/volumes/,
 * https://kubernetes.io/docs/concepts/storage/projected-volumes/ for the downward API). Pure
 * schemas and checks, with the messages of Kubernetes' pkg/apis/core/validation (ValidateVolumes,
 * ValidateVolumeMounts, validateKeyToPath, validateDownwardAPIVolumeFile); the node agent mounts
 * them.
 */
import { z } from 'zod';
import { ObjectFieldSelector, ResourceFieldSelector, SUBSCRIPTED_FIELD } from './env-source';
import { CODE_DIGEST, FUNCTION_CODE_CSI_DRIVER } from './function-names';
import { LabelName } from './meta';
import { parseQuantity } from './quantity';

/** The most a file mode may be: 0777, rwx for all. */
export const MAX_FILE_MODE = 0o777;
/** The mode of projected files when the volume does not say: 0644 (420), as Kubernetes defaults it. */
export const DEFAULT_FILE_MODE = 0o644;

/** The pod fields a downward API volume file may hold, besides metadata.labels['k'] and metadata.annotations['k']. */
export const VOLUME_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations'] as const;

/** The sources a volume may have, exactly one of them, in the order Kubernetes checks them. */
export const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'secret', 'persistentVolumeClaim', 'downwardAPI', 'configMap', 'csi'] as const;

/** The CSI drivers an inline `csi` volume may name: mk's own, which serves a Function's code. */
export const CSI_DRIVERS = [FUNCTION_CODE_CSI_DRIVER] as const;

/** A path element that climbs out of the directory. */
const BACKSTEP = '..';

/** Why `p` is not a path inside a directory (Kubernetes' validateLocalDescendingPath), or undefined. */
export function localPathError(p: string): string | undefined {
  if (p.startsWith('/')) return 'must be a relative path';
  if (p.split('/').includes(BACKSTEP)) return `must not contain '${BACKSTEP}'`;
  return undefined;
}

/**
 * Why `p` cannot name a file the node writes into a volume (Kubernetes'
 * ValidateLocalNonReservedPath), or undefined: relative, no `..` element, and not starting with
 * `..`, which the atomic writer keeps for itself (`..data`).
 */
export function projectedPathError(p: string): string | undefined {
  if (p === '') return 'Required value';
  const err = localPathError(p);
  if (err) return `Invalid value: ${JSON.stringify(p)}: ${err}`;
  if (p.startsWith(BACKSTEP)) return `Invalid value: ${JSON.stringify(p)}: must not start with '${BACKSTEP}'`;
  return undefined;
}

const required = (what: string) => z.string().min(1, 'Required value').describe(what);

const FileMode = z.number().int().superRefine((m, ctx) => {
  if (m < 0 || m > MAX_FILE_MODE) {
    ctx.addIssue({ code: 'custom', message: `Invalid value: ${m}: must be a number between 0 and 0777 (octal), both inclusive` });
  }
});

const fileMode = (what: string) => FileMode.optional().describe(
  `${what}: a number from 0 to 0777 (511). YAML may write it in octal with a leading zero (\`0644\`), `
  + 'JSON only in decimal (420).',
);

const ProjectedPath = z.string().superRefine((p, ctx) => {
  const err = projectedPathError(p);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

/** A quantity written as a string ("1Gi", "500m"), as the contract's volume fields keep it. */
const QuantityString = z.string().superRefine((v, ctx) => {
  if (parseQuantity(v) === null) ctx.addIssue({ code: 'custom', message: `invalid quantity "${v}"` });
});

export const KeyToPath = z.strictObject({
  key: required('The key of the ConfigMap or Secret whose value the file holds.'),
  path: ProjectedPath.describe(
    "The file's path in the volume: relative, without a `..` element and not starting with `..`, such as `app.conf` or `conf/app.conf`.",
  ),
  mode: fileMode("The file's permission bits; the volume's defaultMode when omitted"),
}).meta({ title: 'KeyToPath' });
export type KeyToPath = z.infer<typeof KeyToPath>;

/** Issues of item paths given twice; paths relative to the volume source. */
function duplicatePaths(items: { path: string }[] | undefined, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  (items ?? []).forEach((item, i) => {
    if (seen.has(item.path)) {
      ctx.addIssue({ code: 'custom', path: ['items', i, 'path'], message: `Invalid value: ${JSON.stringify(item.path)}: conflicting duplicate paths` });
    }
    seen.add(item.path);
  });
}

export const EmptyDirVolumeSource = z.strictObject({
  medium: z.enum(['', 'Memory']).optional().describe(
    "Where the directory lives: the node's disk (`\"\"`, the default) or memory (`Memory`, a tmpfs, counted against the container's memory).",
  ),
  sizeLimit: QuantityString.optional().describe(
    'The most the directory may hold, a quantity string such as `"1Gi"`; for a Memory medium the size of the tmpfs. No limit when omitted.',
  ),
}).meta({ title: 'EmptyDirVolumeSource' });
export type EmptyDirVolumeSource = z.infer<typeof EmptyDirVolumeSource>;

export const HostPathType = z.enum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']);
export type HostPathType = z.infer<typeof HostPathType>;

export const HostPathVolumeSource = z.strictObject({
  path: z.string().superRefine((p, ctx) => {
    if (p === '') ctx.addIssue({ code: 'custom', message: 'Required value' });
    else if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(p)}: must be an absolute path` });
    else if (p.split('/').includes(BACKSTEP)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(p)}: must not contain '..'` });
  }).describe("The file or directory on the node, an absolute path without a `..` element."),
  type: HostPathType.optional().describe(
    'What must be at the path before the pod starts: "" (the default: no check), DirectoryOrCreate or FileOrCreate '
    + '(made when missing), Directory, File, Socket, CharDevice or BlockDevice (must exist and be one).',
  ),
}).meta({ title: 'HostPathVolumeSource' });
export type HostPathVolumeSource = z.infer<typeof HostPathVolumeSource>;

export const ConfigMapVolumeSource = z.strictObject({
  name: required("The ConfigMap, in the pod's namespace."),
  items: z.array(KeyToPath).optional().describe(
    'The keys to write and where; every key of the ConfigMap, each as a file of its name, when omitted. '
    + 'A key listed here that the ConfigMap lacks is an error unless optional is true.',
  ),
  defaultMode: fileMode('The permission bits of the files; 0644 (420) when omitted'),
  optional: z.boolean().optional().describe('When true, a missing ConfigMap (or key) leaves the volume empty; otherwise the pod waits until it exists.'),
}).superRefine((s, ctx) => duplicatePaths(s.items, ctx)).meta({ title: 'ConfigMapVolumeSource' });
export type ConfigMapVolumeSource = z.infer<typeof ConfigMapVolumeSource>;

export const SecretVolumeSource = z.strictObject({
  secretName: required("The Secret, in the pod's namespace."),
  items: z.array(KeyToPath).optional().describe(
    'The keys to write (decoded) and where; every key of the Secret, each as a file of its name, when omitted. '
    + 'A key listed here that the Secret lacks is an error unless optional is true.',
  ),
  defaultMode: fileMode('The permission bits of the files; 0644 (420) when omitted'),
  optional: z.boolean().optional().describe('When true, a missing Secret (or key) leaves the volume empty; otherwise the pod waits until it exists.'),
}).superRefine((s, ctx) => duplicatePaths(s.items, ctx)).meta({ title: 'SecretVolumeSource' });
export type SecretVolumeSource = z.infer<typeof SecretVolumeSource>;

/** The pod fields a downward API file may hold: fewer than an environment variable may take. */
export const VolumeObjectFieldSelector = ObjectFieldSelector.extend({
  fieldPath: z.string().superRefine((p, ctx) => {
    if ((VOLUME_FIELD_PATHS as readonly string[]).includes(p) || SUBSCRIPTED_FIELD.test(p)) return;
    ctx.addIssue({
      code: 'custom',
      message: `Unsupported value: "${p}": supported values: ${VOLUME_FIELD_PATHS.map((f) => `"${f}"`).join(', ')}, `
        + `"metadata.labels['<key>']", "metadata.annotations['<key>']"`,
    });
  }).describe(
    "The pod field the file holds: `metadata.name`, `metadata.namespace`, `metadata.uid`, `metadata.labels` and `metadata.annotations` "
    + "(one `key=\"value\"` line each), or one of them, `metadata.labels['app']`.",
  ),
}).meta({ title: 'ObjectFieldSelector' });

/** A resource of a named container; the divisor kept as a quantity string. */
export const VolumeResourceFieldSelector = ResourceFieldSelector.extend({
  containerName: ResourceFieldSelector.shape.containerName.describe('The container whose resources to take; required in a volume.'),
  divisor: QuantityString.optional().describe(
    'The unit of the value, which is rounded up to a whole number of it: `"1"` (the default: cores, or bytes), `"1m"`, `"1Mi"`, ...',
  ),
}).meta({ title: 'ResourceFieldSelector' });

export const DownwardAPIVolumeFile = z.strictObject({
  path: ProjectedPath.describe('The file\'s path in the volume: relative, without a `..` element and not starting with `..`.'),
  fieldRef: VolumeObjectFieldSelector.optional().describe('A field of the pod: its name, namespace, uid, labels or annotations.'),
  resourceFieldRef: VolumeResourceFieldSelector.optional().describe("A container's cpu or memory request or limit."),
  mode: fileMode("The file's permission bits; the volume's defaultMode when omitted"),
}).superRefine((f, ctx) => {
  if (f.fieldRef && f.resourceFieldRef) {
    ctx.addIssue({ code: 'custom', message: 'Invalid value: "resource": fieldRef and resourceFieldRef can not be specified simultaneously' });
  } else if (!f.fieldRef && !f.resourceFieldRef) {
    ctx.addIssue({ code: 'custom', message: 'Required value: one of fieldRef and resourceFieldRef is required' });
  }
  if (f.resourceFieldRef && !f.resourceFieldRef.containerName) {
    ctx.addIssue({ code: 'custom', path: ['resourceFieldRef', 'containerName'], message: 'Required value' });
  }
}).meta({ title: 'DownwardAPIVolumeFile' });
export type DownwardAPIVolumeFile = z.infer<typeof DownwardAPIVolumeFile>;

export const DownwardAPIVolumeSource = z.strictObject({
  items: z.array(DownwardAPIVolumeFile).optional().describe('The files to write, each with a field of the pod or a resource of a container.'),
  defaultMode: fileMode('The permission bits of the files; 0644 (420) when omitted'),
}).superRefine((s, ctx) => duplicatePaths(s.items, ctx)).meta({ title: 'DownwardAPIVolumeSource' });
export type DownwardAPIVolumeSource = z.infer<typeof DownwardAPIVolumeSource>;

export const PersistentVolumeClaimVolumeSource = z.strictObject({
  claimName: required("The PersistentVolumeClaim, in the pod's namespace."),
  readOnly: z.boolean().optional().describe('Mount the volume read-only in every container; false when omitted.'),
}).meta({ title: 'PersistentVolumeClaimVolumeSource' });
export type PersistentVolumeClaimVolumeSource = z.infer<typeof PersistentVolumeClaimVolumeSource>;

/** A field of CSIVolumeSource that mk refuses, with why. */
const refusedCsiField = (field: string, why: string) => z.unknown().optional().superRefine((v, ctx) => {
  if (v !== undefined) ctx.addIssue({ code: 'custom', message: `Forbidden: ${field} is not supported: ${why}` });
}).describe(`Not supported: ${why}`);

/**
 * A CSI ephemeral (inline) volume
 * (https://kubernetes.io/docs/concepts/storage/ephemeral-volumes/#csi-ephemeral-volumes). mk has
 * one driver, built into the node: `functions.mk.io`, a Function's code by digest, read-only.
 */
export const CSIVolumeSource = z.strictObject({
  driver: z.string().superRefine((d, ctx) => {
    if (d === '') ctx.addIssue({ code: 'custom', message: 'Required value' });
    else if (!(CSI_DRIVERS as readonly string[]).includes(d)) {
      ctx.addIssue({ code: 'custom', message: `Unsupported value: ${JSON.stringify(d)}: supported values: ${CSI_DRIVERS.map((x) => `"${x}"`).join(', ')}` });
    }
  }).describe(`The CSI driver: only \`${FUNCTION_CODE_CSI_DRIVER}\` (a Function's code, by digest).`),
  readOnly: z.boolean().optional().describe(`Whether the volume is read-only; \`${FUNCTION_CODE_CSI_DRIVER}\` needs true.`),
  volumeAttributes: z.record(z.string(), z.string()).optional().describe(
    `The driver's attributes; \`${FUNCTION_CODE_CSI_DRIVER}\` needs \`digest\`: the code's digest, \`sha256:\` and 64 lower-case hex digits.`,
  ),
  fsType: refusedCsiField('fsType', 'mk\'s CSI driver serves a directory, not a file system'),
  nodePublishSecretRef: refusedCsiField('nodePublishSecretRef', 'mk\'s CSI driver needs no secret'),
}).superRefine((s, ctx) => {
  if (s.driver !== FUNCTION_CODE_CSI_DRIVER) return;
  if (s.readOnly !== true) {
    ctx.addIssue({ code: 'custom', path: ['readOnly'], message: `Invalid value: ${String(s.readOnly ?? false)}: the ${FUNCTION_CODE_CSI_DRIVER} driver serves read-only volumes only: set readOnly: true` });
  }
  const digest = s.volumeAttributes?.digest;
  if (digest === undefined) {
    ctx.addIssue({ code: 'custom', path: ['volumeAttributes', 'digest'], message: `Required value: the ${FUNCTION_CODE_CSI_DRIVER} driver needs the code's digest` });
  } else if (!CODE_DIGEST.test(digest)) {
    ctx.addIssue({ code: 'custom', path: ['volumeAttributes', 'digest'], message: `Invalid value: ${JSON.stringify(digest)}: must be sha256: and 64 lower-case hex digits` });
  }
  for (const key of Object.keys(s.volumeAttributes ?? {})) {
    if (key !== 'digest') ctx.addIssue({ code: 'custom', path: ['volumeAttributes', key], message: `Unsupported value: ${JSON.stringify(key)}: supported values: "digest"` });
  }
}).meta({ title: 'CSIVolumeSource' });
export type CSIVolumeSource = z.infer<typeof CSIVolumeSource>;

export const Volume = z.strictObject({
  name: LabelName.describe('The name of the volume, unique in the pod (a DNS-1123 label); volumeMounts name it.'),
  emptyDir: EmptyDirVolumeSource.optional().describe(
    'An empty directory made when the pod starts on its node and removed with the pod; its containers share it.',
  ),
  hostPath: HostPathVolumeSource.optional().describe(
    "A file or directory of the node. It gives the pod the node's files (and the node the pod's writes): use it with care.",
  ),
  configMap: ConfigMapVolumeSource.optional().describe("The keys of a ConfigMap in the pod's namespace, each a file."),
  secret: SecretVolumeSource.optional().describe("The keys of a Secret in the pod's namespace, decoded, each a file (on a tmpfs)."),
  downwardAPI: DownwardAPIVolumeSource.optional().describe("Fields of the pod and resources of its containers, each a file."),
  persistentVolumeClaim: PersistentVolumeClaimVolumeSource.optional().describe(
    "The PersistentVolume bound to a claim in the pod's namespace. Needs the PersistentVolume and PersistentVolumeClaim kinds, "
    + 'which mk does not serve yet: such a pod cannot start.',
  ),
  csi: CSIVolumeSource.optional().describe(
    `An inline CSI volume; mk's one driver, \`${FUNCTION_CODE_CSI_DRIVER}\`, mounts a Function's code (by digest) read-only.`,
  ),
}).superRefine((v, ctx) => {
  const set = VOLUME_SOURCES.filter((s) => v[s] !== undefined);
  if (set.length === 0) ctx.addIssue({ code: 'custom', message: 'Required value: must specify a volume type' });
  for (const extra of set.slice(1)) ctx.addIssue({ code: 'custom', path: [extra], message: 'Forbidden: may not specify more than 1 volume type' });
}).meta({ title: 'Volume' });
export type Volume = z.infer<typeof Volume>;

const SubPath = (what: string) => z.string().superRefine((p, ctx) => {
  const err = localPathError(p);
  if (err) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(p)}: ${err}` });
}).optional().describe(what);

export const VolumeMount = z.strictObject({
  name: required('The volume to mount: the name of one of the pod\'s volumes.'),
  mountPath: z.string().superRefine((p, ctx) => {
    if (p === '') ctx.addIssue({ code: 'custom', message: 'Required value' });
    else if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(p)}: must be an absolute path` });
  }).describe("Where in the container the volume appears: an absolute path, unique among the container's mounts."),
  readOnly: z.boolean().optional().describe('Mount the volume read-only in this container; read-write when omitted.'),
  subPath: SubPath("A path inside the volume to mount instead of its root: relative, without a `..` element. Not together with subPathExpr."),
  subPathExpr: SubPath(
    'Like subPath, with `$(NAME)` replaced by the value of the container\'s variable NAME (from env, typically a fieldRef). Not together with subPath.',
  ),
}).superRefine((m, ctx) => {
  if (m.subPath && m.subPathExpr) {
    ctx.addIssue({
      code: 'custom', path: ['subPathExpr'],
      message: `Invalid value: ${JSON.stringify(m.subPathExpr)}: subPathExpr and subPath are mutually exclusive`,
    });
  }
}).meta({ title: 'VolumeMount' });
export type VolumeMount = z.infer<typeof VolumeMount>;

/** An issue found across fields: where, relative to the object checked, and what. */
export interface VolumeIssue { path: (string | number)[]; message: string }

/** Mount paths a container gives twice. Paths are relative to the container. */
export function volumeMountIssues(c: { volumeMounts?: VolumeMount[] | undefined }): VolumeIssue[] {
  const out: VolumeIssue[] = [];
  const seen = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    if (seen.has(m.mountPath)) out.push({ path: ['volumeMounts', i, 'mountPath'], message: `Invalid value: ${JSON.stringify(m.mountPath)}: must be unique` });
    seen.add(m.mountPath);
  });
  return out;
}

/** A pod spec as the volume checks need it. */
interface VolumeSpec {
  volumes?: Volume[] | undefined;
  containers: { name: string; volumeMounts?: VolumeMount[] | undefined }[];
  initContainers?: { name: string; volumeMounts?: VolumeMount[] | undefined }[] | undefined;
}

/**
 * What ties volumes to the rest of the pod: volume names given twice, mounts of volumes the pod
 * lacks (besides those in `mountable`, which will be added to it), and downward API files naming
 * a container the pod lacks. Paths are relative to the spec.
 */
export function volumeIssues(spec: VolumeSpec, mountable?: ReadonlySet<string>): VolumeIssue[] {
  const out: VolumeIssue[] = [];
  const names = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    if (names.has(v.name)) out.push({ path: ['volumes', i, 'name'], message: `Duplicate value: ${JSON.stringify(v.name)}` });
    names.add(v.name);
  });
  for (const field of ['initContainers', 'containers'] as const) {
    (spec[field] ?? []).forEach((c, ci) => (c.volumeMounts ?? []).forEach((m, mi) => {
      if (m.name && !names.has(m.name) && !mountable?.has(m.name)) out.push({ path: [field, ci, 'volumeMounts', mi, 'name'], message: `Not found: ${JSON.stringify(m.name)}` });
    }));
  }
  const containers = new Set([...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name));
  (spec.volumes ?? []).forEach((v, vi) => (v.downwardAPI?.items ?? []).forEach((f, fi) => {
    const name = f.resourceFieldRef?.containerName;
    if (name && !containers.has(name)) {
      out.push({ path: ['volumes', vi, 'downwardAPI', 'items', fi, 'resourceFieldRef', 'containerName'], message: `Not found: ${JSON.stringify(name)}` });
    }
  }));
  return out;
}
