/** ObjectMeta and the pieces every kind shares (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/). */
import { z } from 'zod';
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
});

export const OwnerReference = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof OwnerReference>;

/** Metadata as a user writes it; server-set fields are accepted (a `get -o yaml` re-applies). */
export const ObjectMeta = z.strictObject({
  name: SubdomainName,
  namespace: LabelName.optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  ownerReferences: z.array(OwnerReference).optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

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
