/**
 * The storage kinds' schemas: v1 PersistentVolume, v1 PersistentVolumeClaim and
 * storage.k8s.io/v1 StorageClass (https://kubernetes.io/docs/concepts/storage/persistent-volumes/,
 * https://kubernetes.io/docs/concepts/storage/storage-classes/), with Kubernetes' validation
 * rules (ValidatePersistentVolume, ValidatePersistentVolumeClaim) for the fields mk supports.
 * Block volumes and the deprecated Recycle policy are refused by name.
 */
import { z } from 'zod';
import { ObjectMeta, Quantity, type ObjectMeta as Meta } from './meta';
import { parseQuantity } from './quantity';
import { LabelSelector, NodeSelectorTerm } from './scheduling';
import { ACCESS_MODES } from './storage';

type Ctx = z.core.$RefinementCtx;

const AccessModes = z.array(z.enum(ACCESS_MODES)).describe(
  'How the volume may be mounted: ReadWriteOnce (read-write by one node), ReadOnlyMany (read-only by many nodes), '
  + 'ReadWriteMany (read-write by many nodes), ReadWriteOncePod (read-write by one pod, alone).',
);

function checkAccessModes(modes: readonly string[], path: (string | number)[], ctx: Ctx): void {
  if (modes.length === 0) ctx.addIssue({ code: 'custom', path, message: 'at least 1 access mode is required' });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) {
    ctx.addIssue({ code: 'custom', path, message: 'may not use ReadWriteOncePod with other access modes' });
  }
}

/** Filesystem, the one volume mode mk mounts; Block is refused with a reason. */
const VolumeMode = z.string().superRefine((v, ctx) => {
  if (v === 'Block') ctx.addIssue({ code: 'custom', message: 'volumeMode Block is not supported: mk mounts volumes as filesystems only (use Filesystem or leave it out)' });
  else if (v !== 'Filesystem') ctx.addIssue({ code: 'custom', message: `unsupported volumeMode "${v}": must be Filesystem` });
}).describe('Filesystem (the default): the volume is mounted as a directory. Block devices are not supported.');

const StorageAmount = z.strictObject({
  storage: Quantity.describe('The size, such as "1Gi" or "500Mi".'),
}).meta({ title: 'ResourceList' });

function checkPositive(q: string | number, path: (string | number)[], ctx: Ctx): void {
  const v = parseQuantity(q);
  if (v !== null && v <= 0) ctx.addIssue({ code: 'custom', path, message: 'must be greater than zero' });
}

const AbsolutePath = (what: string) => z.string().min(1).superRefine((p, ctx) => {
  if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', message: `${what} must be an absolute path (got "${p}")` });
  if (p.split('/').includes('..')) ctx.addIssue({ code: 'custom', message: `${what} must not contain '..'` });
});

const HostPathSource = z.strictObject({
  path: AbsolutePath('hostPath.path').describe("The directory on the node's file system."),
  type: z.enum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']).optional()
    .describe('What must be at the path before the volume is mounted; empty (the default) checks nothing.'),
}).meta({ title: 'HostPathVolumeSource' });

const LocalSource = z.strictObject({
  path: AbsolutePath('local.path').describe('The directory (a disk or partition mounted there) on the node.'),
  fsType: z.string().optional().describe('The file system type, for block devices only: refused, as Block volumes are.'),
}).superRefine((l, ctx) => {
  if (l.fsType) ctx.addIssue({ code: 'custom', path: ['fsType'], message: 'fsType applies to block devices only, which mk does not support' });
}).meta({ title: 'LocalVolumeSource' });

const NfsSource = z.strictObject({
  server: z.string().min(1).describe('The host name or IP address of the NFS server.'),
  path: AbsolutePath('nfs.path').describe('The path the NFS server exports.'),
  readOnly: z.boolean().optional().describe('True mounts the export read-only.'),
}).meta({ title: 'NFSVolumeSource' });

/** The volume sources mk supports; a PersistentVolume has exactly one. */
export const PERSISTENT_VOLUME_SOURCES = ['hostPath', 'local', 'nfs'] as const;

const ClaimRef = z.strictObject({
  apiVersion: z.string().optional().describe('`v1`.'),
  kind: z.string().optional().describe('`PersistentVolumeClaim`.'),
  namespace: z.string().min(1).describe("The claim's namespace."),
  name: z.string().min(1).describe("The claim's name."),
  uid: z.string().optional().describe("The claim's uid, once bound (a claim made again under the same name is another claim)."),
  resourceVersion: z.string().optional().describe('The revision of the claim the binding saw.'),
  fieldPath: z.string().optional().describe('Unused; accepted as Kubernetes writes it.'),
}).superRefine((r, ctx) => {
  if (r.kind !== undefined && r.kind !== 'PersistentVolumeClaim') ctx.addIssue({ code: 'custom', path: ['kind'], message: 'claimRef must name a PersistentVolumeClaim' });
}).meta({ title: 'ObjectReference' });

export const PersistentVolumeSpec = z.strictObject({
  capacity: StorageAmount.describe('How much the volume holds.'),
  accessModes: AccessModes,
  storageClassName: z.string().optional().describe(
    'The class the volume belongs to; only claims of this class bind it. Empty or absent: no class, bound only by claims that ask for no class.',
  ),
  volumeMode: VolumeMode.optional(),
  persistentVolumeReclaimPolicy: z.string().superRefine((v, ctx) => {
    if (v === 'Recycle') ctx.addIssue({ code: 'custom', message: 'persistentVolumeReclaimPolicy Recycle is deprecated and not supported: use Retain, or Delete with a provisioner' });
    else if (v !== 'Retain' && v !== 'Delete') ctx.addIssue({ code: 'custom', message: `unsupported persistentVolumeReclaimPolicy "${v}": must be Retain or Delete` });
  }).optional().describe(
    'What happens once its claim is deleted: Retain (the default for volumes made by hand) keeps it Released until an '
    + 'administrator deals with it; Delete removes the volume.',
  ),
  claimRef: ClaimRef.optional().describe('The claim the volume is bound to, or reserved for (pre-binding, before the claim exists).'),
  nodeAffinity: z.strictObject({
    required: z.strictObject({
      nodeSelectorTerms: z.array(NodeSelectorTerm).min(1).describe('Terms of which at least one must hold.'),
    }).meta({ title: 'NodeSelector' }).describe('The nodes the volume can be used from.'),
  }).meta({ title: 'VolumeNodeAffinity' }).optional().describe('Which nodes can reach the volume; required for local volumes.'),
  mountOptions: z.array(z.string()).optional().describe('Options passed to mount (for nfs).'),
  hostPath: HostPathSource.optional().describe('A directory on the node (one-node clusters and tests).'),
  local: LocalSource.optional().describe("A disk or directory of one node, reachable from that node only (give nodeAffinity)."),
  nfs: NfsSource.optional().describe('An NFS export.'),
}).superRefine((s, ctx) => {
  checkAccessModes(s.accessModes, ['accessModes'], ctx);
  checkPositive(s.capacity.storage, ['capacity', 'storage'], ctx);
  const sources = PERSISTENT_VOLUME_SOURCES.filter((k) => s[k] !== undefined);
  if (sources.length === 0) ctx.addIssue({ code: 'custom', message: `must specify a volume type: one of ${PERSISTENT_VOLUME_SOURCES.join(', ')}` });
  if (sources.length > 1) ctx.addIssue({ code: 'custom', path: [sources[1]], message: `may not specify more than 1 volume type (got ${sources.join(', ')})` });
  if (s.local && !s.nodeAffinity) ctx.addIssue({ code: 'custom', path: ['nodeAffinity'], message: 'Local volume requires node affinity' });
  if (s.mountOptions?.length && !s.nfs) ctx.addIssue({ code: 'custom', path: ['mountOptions'], message: 'may not specify mount options for this volume type (only nfs takes them)' });
}).meta({ title: 'PersistentVolumeSpec' });

export const PersistentVolumeStatus = z.strictObject({
  phase: z.enum(['Pending', 'Available', 'Bound', 'Released', 'Failed']).optional().describe(
    'Available (free), Bound (to its claim), Released (its claim is gone, the volume is not yet reclaimed), Failed (reclaiming failed).',
  ),
  message: z.string().optional().describe('Why the volume is in its phase, for people.'),
  reason: z.string().optional().describe('Why the volume is in its phase, in one word.'),
  lastPhaseTransitionTime: z.string().optional().describe('When the phase last changed.'),
}).meta({ title: 'PersistentVolumeStatus' });

export const PersistentVolumeSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('PersistentVolume').describe('The kind of object: `PersistentVolume`.'),
  metadata: ObjectMeta.describe("The volume's name, labels (claims select volumes by them) and the metadata the server keeps."),
  spec: PersistentVolumeSpec.describe('The storage: its size, access modes, class, source and reclaim policy.'),
  status: PersistentVolumeStatus.optional().describe('Written by the server: the phase of the volume.'),
}).meta({ title: 'PersistentVolume' });

export const PersistentVolumeClaimSpec = z.strictObject({
  accessModes: AccessModes,
  resources: z.strictObject({
    requests: StorageAmount.describe('The least storage the claim needs.'),
    limits: z.strictObject({ storage: Quantity.optional().describe('The most storage the claim may have.') }).meta({ title: 'ResourceList' }).optional()
      .describe('The most storage the claim may have.'),
  }).meta({ title: 'VolumeResourceRequirements' }).describe('How much storage the claim asks for.'),
  storageClassName: z.string().nullable().optional().describe(
    'The class of volume wanted. Absent: the default class (the StorageClass annotated '
    + '`storageclass.kubernetes.io/is-default-class: "true"`) when the claim is created, else none; '
    + '"" asks for a volume with no class.',
  ),
  selector: LabelSelector.optional().describe('Only volumes whose labels match may be bound.'),
  volumeName: z.string().optional().describe('The volume to bind (pre-binding); set by the server once bound.'),
  volumeMode: VolumeMode.optional(),
}).superRefine((s, ctx) => {
  checkAccessModes(s.accessModes, ['accessModes'], ctx);
  checkPositive(s.resources.requests.storage, ['resources', 'requests', 'storage'], ctx);
}).meta({ title: 'PersistentVolumeClaimSpec' });

export const PersistentVolumeClaimStatus = z.strictObject({
  phase: z.enum(['Pending', 'Bound', 'Lost']).optional().describe(
    'Pending (not bound yet), Bound (to spec.volumeName), Lost (its volume is gone: the data is lost).',
  ),
  capacity: z.strictObject({ storage: Quantity.optional() }).meta({ title: 'ResourceList' }).optional().describe('The size of the bound volume.'),
  accessModes: z.array(z.string()).optional().describe('The access modes of the bound volume.'),
}).meta({ title: 'PersistentVolumeClaimStatus' });

export const PersistentVolumeClaimSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('PersistentVolumeClaim').describe('The kind of object: `PersistentVolumeClaim`.'),
  metadata: ObjectMeta.describe("The claim's name, namespace, labels and the metadata the server keeps."),
  spec: PersistentVolumeClaimSpec.describe('The storage wanted: size, access modes, class, and optionally which volumes.'),
  status: PersistentVolumeClaimStatus.optional().describe('Written by the server: whether and to what the claim is bound.'),
}).meta({ title: 'PersistentVolumeClaim' });

export const StorageClassSchema = z.strictObject({
  apiVersion: z.literal('storage.k8s.io/v1').describe('The API version of the kind: `storage.k8s.io/v1`.'),
  kind: z.literal('StorageClass').describe('The kind of object: `StorageClass`.'),
  metadata: ObjectMeta.describe(
    "The class's name and annotations; `storageclass.kubernetes.io/is-default-class: \"true\"` makes it the default.",
  ),
  provisioner: z.string().min(1).describe(
    'What makes volumes of this class on demand; `kubernetes.io/no-provisioner` for classes of volumes made by hand.',
  ),
  parameters: z.record(z.string(), z.string()).optional().describe('Settings for the provisioner.'),
  reclaimPolicy: z.enum(['Retain', 'Delete']).optional().describe(
    'The reclaim policy of volumes the provisioner makes: Delete (the default) or Retain.',
  ),
  volumeBindingMode: z.enum(['Immediate', 'WaitForFirstConsumer']).optional().describe(
    'Immediate (the default): claims are bound as soon as they are made; WaitForFirstConsumer: once a pod uses them.',
  ),
  allowVolumeExpansion: z.boolean().optional().describe('True lets claims of this class ask for more storage later.'),
  mountOptions: z.array(z.string()).optional().describe('Mount options of volumes the provisioner makes.'),
}).superRefine((sc, ctx) => {
  if (Object.keys(sc.parameters ?? {}).length > 512) ctx.addIssue({ code: 'custom', path: ['parameters'], message: 'may not have more than 512 parameters' });
}).meta({ title: 'StorageClass' });

export interface PersistentVolume {
  apiVersion: 'v1';
  kind: 'PersistentVolume';
  metadata: Meta;
  spec: z.infer<typeof PersistentVolumeSpec>;
  status?: z.infer<typeof PersistentVolumeStatus>;
}
export type PersistentVolumeSpec = z.infer<typeof PersistentVolumeSpec>;
export type PersistentVolumeStatus = z.infer<typeof PersistentVolumeStatus>;
export type PersistentVolumePhase = NonNullable<PersistentVolumeStatus['phase']>;

export interface PersistentVolumeClaim {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: Meta;
  spec: z.infer<typeof PersistentVolumeClaimSpec>;
  status?: z.infer<typeof PersistentVolumeClaimStatus>;
}
export type PersistentVolumeClaimSpec = z.infer<typeof PersistentVolumeClaimSpec>;
export type PersistentVolumeClaimStatus = z.infer<typeof PersistentVolumeClaimStatus>;
export type ClaimPhase = NonNullable<PersistentVolumeClaimStatus['phase']>;

export type StorageClass = z.infer<typeof StorageClassSchema>;
