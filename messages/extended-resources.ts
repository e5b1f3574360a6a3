/**
 * Kubernetes' rules for extended resources in a container's resources
 * (https://kubernetes.io/docs/tasks/administer-cluster/extended-resource-node/): they are counted
 * in whole units and cannot be overcommitted, so a container that asks for one names it in limits,
 * in whole units, and a request, if also given, equals the limit.
 */
import { qualifiedNameError } from './label-syntax';
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

/** Why `name` is not an extended resource name (`<domain>/<name>`, outside kubernetes.io), or null. */
export function extendedResourceNameError(name: string): string | null {
  const slash = name.indexOf('/');
  const domain = slash > 0 ? name.slice(0, slash) : '';
  if (!domain || domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) {
    return `"${name}" is not an extended resource name: it must be <domain>/<name>, with a domain outside kubernetes.io (example.com/dongle)`;
  }
  const bad = qualifiedNameError(name);
  return bad ? `"${name}" is not an extended resource name: ${bad}` : null;
}

/**
 * Parses NAME=COUNT (`example.com/dongle=4`), as the node agent's --extended-resource takes it,
 * into the name and a whole count. Throws an Error naming the problem.
 */
export function parseExtendedResource(arg: string): [name: string, count: number] {
  const eq = arg.lastIndexOf('=');
  if (eq < 0) throw new Error(`--extended-resource "${arg}": expected NAME=COUNT, such as example.com/dongle=4`);
  const name = arg.slice(0, eq);
  const count = arg.slice(eq + 1);
  const bad = extendedResourceNameError(name);
  if (bad) throw new Error(`--extended-resource "${arg}": ${bad}`);
  if (!/^\d+$/.test(count) || !Number.isSafeInteger(Number(count))) {
    throw new Error(`--extended-resource "${arg}": the count "${count}" must be a whole number, 0 or more`);
  }
  return [name, Number(count)];
}

/** Parses every NAME=COUNT; a name given twice is an error. */
export function parseExtendedResources(args: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const arg of args) {
    const [name, count] = parseExtendedResource(arg);
    if (name in out) throw new Error(`--extended-resource: ${name} is given twice`);
    out[name] = count;
  }
  return out;
}
