/** ObjectMeta and the pieces every kind shares (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/). */
import { z } from 'zod';
import { labelValueError, MAX_ANNOTATIONS_BYTES, qualifiedNameError } from './label-syntax';
import { dns1123LabelError, dns1123SubdomainError } from './names';
import { parseQuantity } from './quantity';

/** A DNS-1123 subdomain name (most object names). */
export const SubdomainName = z.string().superRefine((v, ctx) => {
  const err = dns1123SubdomainError(v);
  if (err) ctx.addIssue({ code: 'custom', message: `invalid name "${v}": ${err}` });
});

/** A DNS-1123 label (namespaces, container and port names). */
export const LabelName = z.string().superRefine((v, ctx) => {
  const err = dns1123LabelError(v);
  if (err) ctx.addIssue({ code: 'custom', message: `invalid name "${v}": ${err}` });
});

/** A resource quantity: "250m", "64Mi", 1. */
export const Quantity = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  if (parseQuantity(v) === null) ctx.addIssue({ code: 'custom', message: `invalid quantity "${v}"` });
}).meta({
  title: 'Quantity',
  description: 'An amount: a plain number, or a number with a suffix, either decimal (m for thousandths, k, M, G, T, P, E) '
    + 'or binary (Ki, Mi, Gi, Ti, Pi, Ei), as in "250m" or "64Mi".',
});

export const OwnerReference = z.strictObject({
  apiVersion: z.string().describe('The apiVersion of the owner, such as `v1`.'),
  kind: z.string().describe('The kind of the owner, as its manifest names it.'),
  name: z.string().describe('The name of the owner, which is in the same namespace as this object or cluster-scoped.'),
  uid: z.string().describe('The uid of the owner, which tells it apart from a later object given the same name.'),
  controller: z.boolean().optional().describe(
    'True on the one reference to the object that manages this one; `mk describe` shows that owner as "Controlled By".',
  ),
  blockOwnerDeletion: z.boolean().optional().describe(
    'True makes a foreground deletion of the owner wait until this object is gone; without it the owner '
    + 'may go first while the garbage collector removes this object after.',
  ),
}).meta({ title: 'OwnerReference' });
export type OwnerReference = z.infer<typeof OwnerReference>;

/** Metadata as a user writes it; server-set fields are accepted (a `get -o yaml` re-applies). */
export const ObjectMeta = z.strictObject({
  name: SubdomainName.describe(
    'The name, unique for the kind within the namespace (or the cluster, for cluster-scoped kinds): lower-case letters, digits, '
    + "'-' and '.', at most 253 characters, starting and ending with a letter or digit. It cannot change: another name makes another object.",
  ),
  namespace: LabelName.optional().describe(
    'The namespace of a namespaced object: this value, else `-n`, else `default` (the two must agree when both are given); it must exist '
    + 'and not be terminating. Cluster-scoped kinds (Node, Namespace) drop it.',
  ),
  uid: z.string().optional().describe(
    'A unique id the server gives the object when it is created; an object created again under the same name gets a new one. '
    + "Read-only: a manifest's value is ignored.",
  ),
  labels: z.record(z.string(), z.string()).superRefine((labels, ctx) => {
    for (const [k, v] of Object.entries(labels)) {
      const bad = qualifiedNameError(k) ?? labelValueError(v);
      if (bad) ctx.addIssue({ code: 'custom', path: [k], message: `invalid label ${JSON.stringify(`${k}=${v}`)}: ${bad}` });
    }
  }).optional().describe(
    "Key and value pairs that group objects: `mk get -l` and `mk delete -l` select by them, and a pod's nodeSelector matches a node's labels. "
    + "A key is `[prefix/]name`: the prefix a DNS subdomain, the name 1 to 63 letters, digits, '-', '_' or '.', "
    + 'starting and ending with a letter or digit; a value is empty or written like such a name.',
  ),
  annotations: z.record(z.string(), z.string()).superRefine((annotations, ctx) => {
    const utf8 = new TextEncoder();
    let bytes = 0;
    for (const [k, v] of Object.entries(annotations)) {
      const bad = qualifiedNameError(k);
      if (bad) ctx.addIssue({ code: 'custom', path: [k], message: `invalid annotation key ${JSON.stringify(k)}: ${bad}` });
      bytes += utf8.encode(k).length + utf8.encode(v).length;
    }
    if (bytes > MAX_ANNOTATIONS_BYTES) ctx.addIssue({ code: 'custom', message: `annotations hold ${bytes} bytes: at most ${MAX_ANNOTATIONS_BYTES} are allowed` });
  }).optional().describe(
    'Key and value pairs for notes that people and tools keep on an object, stored as written. Keys are written like label keys, '
    + 'and all annotations of an object hold at most 256 KiB. mk reads one of them: `kubectl.kubernetes.io/last-applied-configuration`, '
    + 'where `mk apply` records the configuration it applied, to merge the next one with it.',
  ),
  resourceVersion: z.string().optional().describe(
    "The store revision of the object's latest write, filled in by the server on every read and different after every write. "
    + 'In an update (`mk replace`, `mk edit`) it is a precondition: the write is refused with Conflict when the object '
    + 'changed since that revision; `mk apply` sends the revision it read. Otherwise a manifest\'s value is ignored.',
  ),
  generation: z.number().int().optional().describe(
    'The version of the spec: 1 at creation, one more on each update that changes the spec (not labels, annotations or status). '
    + "Set by the server; a manifest's value is ignored.",
  ),
  creationTimestamp: z.string().optional().describe(
    "When the object was created, in RFC 3339 form in UTC (`2025-01-31T08:00:00Z`). Set by the server; a manifest's value is ignored.",
  ),
  deletionTimestamp: z.string().optional().describe(
    'When a graceful deletion began: a deleted pod that is bound to a node, a deleted namespace, or an object with finalizers stays '
    + 'terminating until its containers have stopped (or its objects are gone, or its finalizers are emptied), and `mk apply` '
    + "changes nothing of it meanwhile but its finalizers. Set by the server; a manifest's value is ignored.",
  ),
  deletionGracePeriodSeconds: z.number().int().optional().describe(
    "The seconds a deletion in progress gives containers to stop: `mk delete --grace-period`, else the pod's terminationGracePeriodSeconds; "
    + "a later delete may shorten it, never lengthen it. Set by the server; a manifest's value is ignored.",
  ),
  ownerReferences: z.array(OwnerReference).optional().describe(
    'The objects this one belongs to, kept as given at creation (later applies do not change them). '
    + 'When every owner is gone the garbage collector deletes this object; `mk delete --cascade` '
    + 'chooses whether that happens after the owner (background), before it (foreground) or not at all (orphan).',
  ),
  finalizers: z.array(z.string()).optional().describe(
    'Names of clean-up steps that must finish before the object goes away: a deletion only marks an object '
    + 'that has any (deletionTimestamp, shown as Terminating), and it is removed once an update empties the list. '
    + 'mk adds `foregroundDeletion` and `orphan` itself during cascading deletions.',
  ),
}).meta({ title: 'ObjectMeta' });
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/** The finalizer of an owner whose dependents are deleted before it (`--cascade=foreground`). */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The finalizer of an owner whose dependents are left without their reference to it (`--cascade=orphan`). */
export const ORPHAN_FINALIZER = 'orphan';

/** The shape every stored object has. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/** Now (or `d`) as Kubernetes writes timestamps: RFC 3339 in UTC, whole seconds. */
export function timestamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
