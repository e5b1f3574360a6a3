/** Turning what a user typed (`po`, `pod/demo`) into kinds and names. */
import { KINDS, resolveKind, type KindInfo } from '../messages/registry';
import { CliError } from './errors';

/** The kind a user named; throws kubectl's message for an unknown one. */
export function kindArg(name: string): KindInfo {
  const kind = resolveKind(name);
  if (!kind) throw new CliError(`the server doesn't have a resource type "${name}"`);
  return kind;
}

/** A resolved `KIND NAME...` or `KIND/NAME ...` argument list. */
export interface Targets {
  kind: KindInfo;
  names: string[];
}

/**
 * Resolves `KIND [NAME...]` or `KIND/NAME [KIND/NAME...]` (one kind only). Throws CliError on an
 * unknown kind or a mix of the two forms.
 */
export function parseTargets(first: string, rest: string[]): Targets {
  if (!first.includes('/')) {
    if (rest.some((r) => r.includes('/'))) throw new CliError('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
    return { kind: kindArg(first), names: rest };
  }
  const pairs = [first, ...rest].map((a) => {
    const i = a.indexOf('/');
    if (i <= 0 || i === a.length - 1) throw new CliError(`arguments in resource/name form must have a single resource and name: "${a}"`);
    return { kind: kindArg(a.slice(0, i)), name: a.slice(i + 1) };
  });
  if (new Set(pairs.map((p) => p.kind.plural)).size > 1) throw new CliError('arguments in resource/name form must all be of one kind in mk');
  return { kind: pairs[0].kind, names: pairs.map((p) => p.name) };
}

/** Namespace to use: the flag, else `default`. Cluster-scoped kinds get undefined. */
export function namespaceFor(kind: KindInfo, flag: string | undefined): string | undefined {
  return kind.namespaced ? flag || 'default' : undefined;
}

/** The kinds for a help text: `pods (po), nodes (no), ...`. */
export function kindsHelp(): string {
  return KINDS.map((k) => (k.shortNames.length ? `${k.plural} (${k.shortNames.join(', ')})` : k.plural)).join(', ');
}

/** The kinds Kubernetes puts in the `all` category: the namespaced workload kinds. */
const ALL_CATEGORY = ['pods', 'services', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'horizontalpodautoscalers'];

/**
 * The kinds `mk get all` shows, in kubectl's order: those of the `all` category that mk serves,
 * and any kind that declares the category itself.
 */
export function allKinds(): KindInfo[] {
  const inAll = KINDS.filter((k) => k.namespaced && k.storage === 'store' && (ALL_CATEGORY.includes(k.plural) || k.categories?.includes('all')));
  const rank = (k: KindInfo) => (ALL_CATEGORY.includes(k.plural) ? ALL_CATEGORY.indexOf(k.plural) : ALL_CATEGORY.length);
  return inAll.sort((a, b) => rank(a) - rank(b) || a.plural.localeCompare(b.plural));
}
