/** coordination.k8s.io/v1 Lease: the record control planes elect their leader on. */
import { z } from 'zod';
import { ObjectMeta } from './meta';

/** The namespace of mk's own leases. */
export const LEASE_NAMESPACE = 'mk-system';
/** The lease the control planes elect their leader on. */
export const CONTROL_PLANE_LEASE = 'mk-control-plane';

export const LeaseSpecSchema = z.strictObject({
  holderIdentity: z.string().optional().describe(
    'Who holds the lease: the identity of the control plane that leads (`<host>_<pid>_<random>`). '
    + 'Empty when the last holder gave the lease up on a clean stop.',
  ),
  leaseDurationSeconds: z.number().int().positive().optional().describe(
    'How long the holder may go without renewing before the others take the lease over, in seconds '
    + '(15 by default; the control plane flag --lease-seconds).',
  ),
  acquireTime: z.string().optional().describe(
    'When the current holder took the lease, RFC 3339 with microseconds. For people to read: each '
    + 'candidate times the lease on its own clock.',
  ),
  renewTime: z.string().optional().describe(
    'When the holder last renewed the lease, RFC 3339 with microseconds. The holder renews every '
    + 'few seconds (2 s for a 15 s lease).',
  ),
  leaseTransitions: z.number().int().nonnegative().optional().describe(
    'How many times the lease changed hands since it was made: each failover adds one.',
  ),
}).meta({ title: 'LeaseSpec', description: 'Who holds the lease, since when and for how long.' });
export type LeaseSpecFields = z.infer<typeof LeaseSpecSchema>;

export const LeaseSchema = z.strictObject({
  apiVersion: z.literal('coordination.k8s.io/v1').describe('The API version of the kind: `coordination.k8s.io/v1`.'),
  kind: z.literal('Lease').describe('The kind of object: `Lease`.'),
  metadata: ObjectMeta.describe("The lease's name and namespace and the metadata the server keeps."),
  spec: LeaseSpecSchema.optional(),
}).meta({ title: 'Lease' });

/** A Lease as stored. */
export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: ObjectMeta;
  spec?: LeaseSpecFields;
}

/**
 * The namespace of the nodes' heartbeat leases, one per node named after it (Kubernetes'
 * kube-node-lease: https://kubernetes.io/docs/concepts/architecture/leases/#node-heart-beats).
 */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** How long a node lease lasts without renewal, in seconds (the kubelet's 40). */
export const NODE_LEASE_DURATION_SECONDS = 40;
