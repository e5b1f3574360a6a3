/**
 * The apps/v1 ControllerRevision kind
 * (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/controller-revision-v1/):
 * an immutable snapshot of a StatefulSet's or DaemonSet's pod template, which the set's controller
 * keeps as its history (`mk rollout history`, `mk rollout undo`). `data` holds the revision as a
 * patch of the set, `{ spec: { template: { ..., $patch: 'replace' } } }`, as Kubernetes stores it.
 */
import { z } from 'zod';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import type { PodTemplateSpec } from './replicaset';

/** The label a revision and its set's pods carry: the hash of the revision's template. */
export const CONTROLLER_REVISION_HASH_KEY = 'controller-revision-hash';

export const ControllerRevisionSchema = z.strictObject({
  apiVersion: z.literal('apps/v1').describe('The API version of the kind: `apps/v1`.'),
  kind: z.literal('ControllerRevision').describe('The kind of object: `ControllerRevision`.'),
  metadata: ObjectMeta.describe("The revision's name (`<set>-<hash>`), its set's selector labels and the owner reference to the set."),
  data: z.record(z.string(), z.unknown()).optional().describe(
    'The revision: a patch of its set that restores its pod template, `{spec: {template: {..., $patch: replace}}}`. Fixed at creation.',
  ),
  revision: z.number().int().min(1, 'must be 1 or more').describe(
    'The number of the revision in its set\'s history: the newest has the highest. Its controller raises it when a set goes back to it.',
  ),
}).meta({ title: 'ControllerRevision' });

/** A ControllerRevision as stored. */
export interface ControllerRevision {
  apiVersion: 'apps/v1';
  kind: 'ControllerRevision';
  metadata: Meta;
  data?: { spec?: { template?: PodTemplateSpec & { $patch?: 'replace' } } } & Record<string, unknown>;
  revision: number;
}

/**
 * The pod template a revision stores (its data's spec.template without `$patch`), or undefined
 * when its data holds none.
 */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = rev.data?.spec?.template;
  if (!t || typeof t !== 'object') return undefined;
  const out = structuredClone(t);
  delete out.$patch;
  return out;
}

/** The data of a revision of `template`: the patch that puts it back into its set. */
export function revisionData(template: PodTemplateSpec): NonNullable<ControllerRevision['data']> {
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } };
}
