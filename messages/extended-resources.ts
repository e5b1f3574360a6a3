/**
 * Kubernetes' rules for extended resources in a container's resources
 * (https://kubernetes.io/docs/tasks/administer-cluster/extended-resource-node/): they are counted
 * in whole units and cannot be overcommitted, so a container that asks for one names it in limits,
 * in whole units, and a request, if also given, equals the limit.
 */
import { parseQuantity } from './quantity';

/** True for the names that are extended resources (everything but cpu and memory, in mk). */
export function isExtendedResource(name: string): boolean {
  return name !== 'cpu' && name !== 'memory';
}

/** One problem, with its path under the container. */
export interface ExtendedResourceIssue { path: (string | number)[]; message: string }

type Amounts = Record<string, string | number | undefined>;

/** What is wrong with the container's extended resources (empty when nothing). */
export function extendedResourceIssues(resources: { requests?: Amounts; limits?: Amounts } | undefined): ExtendedResourceIssue[] {
  const out: ExtendedResourceIssue[] = [];
  const requests = resources?.requests ?? {};
  const limits = resources?.limits ?? {};
  for (const [field, list] of [['requests', requests], ['limits', limits]] as const) {
    for (const [name, q] of Object.entries(list)) {
      if (!isExtendedResource(name) || q === undefined) continue;
      const n = parseQuantity(q);
      if (n !== null && !Number.isInteger(n)) {
        out.push({ path: ['resources', field, name], message: `${name} must be a whole number (got ${q}): extended resources are counted in whole units` });
      }
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    if (!isExtendedResource(name) || q === undefined) continue;
    const limit = limits[name];
    if (limit === undefined) {
      out.push({
        path: ['resources', 'limits', name],
        message: `a limit must be set for ${name}: extended resources cannot be overcommitted (set limits equal to requests)`,
      });
    } else if (parseQuantity(q) !== parseQuantity(limit)) {
      out.push({
        path: ['resources', 'requests', name],
        message: `the request for ${name} (${q}) must equal its limit (${limit}): extended resources cannot be overcommitted`,
      });
    }
  }
  return out;
}
