/**
 * `mk scale`'s work, without oclif: set spec.replicas of objects whose kind has it (a scale
 * subresource, in Kubernetes' terms: KindInfo.scalable), as kubectl scale does, with its
 * preconditions: --current-replicas (the object must have that many now) and --resource-version.
 * Each object is one merge patch; with a precondition the patch carries the revision read, so a
 * change in between is a Conflict rather than a lost update.
 */
import { ConflictError } from '../messages/errors';
import { resourceName, type KindInfo, type KubeObject } from '../messages';
import { KINDS } from '../messages/registry';
import type { Api } from './client';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';

/** What `mk scale` was asked. */
export interface ScaleOptions {
  replicas: number;
  /** Precondition: the object's spec.replicas now (kubectl's -1 means none: undefined here). */
  currentReplicas?: number;
  /** Precondition: the object's resourceVersion now. */
  resourceVersion?: string;
  namespace?: string;
  /** Every object of the kind in the namespace (kubectl's --all). */
  all?: boolean;
  /** The objects of the kind whose labels match (kubectl's -l). */
  selector?: string;
  dryRun?: 'none' | 'client' | 'server';
}

/** Where the command writes. */
export interface ScaleIo { out(text: string): void; printError(e: unknown): void }

/** The replicas an object asks for: its spec.replicas, 1 when unset (Kubernetes' default). */
export function specReplicas(o: KubeObject): number {
  const r = (o.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
}

/** Throws CliError unless `kind` can be scaled, naming those that can. */
export function requireScalable(kind: KindInfo): void {
  if (kind.scalable) return;
  const can = KINDS.filter((k) => k.scalable).map((k) => k.plural).join(', ');
  throw new CliError(`${kind.plural} cannot be scaled: only kinds with spec.replicas can (${can})`);
}

/**
 * Scales every object `targets` names (`KIND NAME...` or `KIND/NAME...`); prints
 * `replicaset.apps/NAME scaled` for each. Resolves false when any failed (each failure printed).
 * Throws CliError for a bad command line before anything is written.
 */
export async function scaleObjects(api: Api, targets: string[], opts: ScaleOptions, io: ScaleIo): Promise<boolean> {
  if (!Number.isInteger(opts.replicas) || opts.replicas < 0) {
    throw new CliError('--replicas=COUNT is required, and COUNT must be greater than or equal to 0');
  }
  if (opts.currentReplicas !== undefined && (!Number.isInteger(opts.currentReplicas) || opts.currentReplicas < -1)) {
    throw new CliError('--current-replicas must be a whole number, 0 or more (or -1 for no precondition)');
  }
  const [first, ...rest] = targets;
  if (first === undefined) throw new CliError('give the objects to scale: KIND NAME... or KIND/NAME...');
  const { kind, names: given } = parseTargets(first, rest);
  const names = [...given];
  requireScalable(kind);
  const namespace = namespaceFor(kind, opts.namespace);
  if ((opts.all || opts.selector !== undefined) && names.length > 0) throw new CliError('give names, or --all or -l, not both');
  if (opts.all || opts.selector !== undefined) {
    names.push(...(await api.list(kind, namespace, opts.selector || undefined)).map((o) => o.metadata.name));
    if (names.length === 0) throw new CliError(`no ${kind.plural} to scale${namespace ? ` in namespace ${namespace}` : ''}`);
  }
  if (names.length === 0) throw new CliError(`give the name of the ${kind.singular} to scale (or --all, or -l)`);
  const current = opts.currentReplicas === -1 ? undefined : opts.currentReplicas;
  if (names.length > 1 && opts.resourceVersion) throw new CliError('--resource-version applies to one object only');
  const suffix = opts.dryRun === 'client' ? ' (dry run)' : opts.dryRun === 'server' ? ' (server dry run)' : '';
  let ok = true;
  for (const name of names) {
    try {
      let resourceVersion = opts.resourceVersion;
      if (current !== undefined || opts.dryRun === 'client') {
        const live = await api.get(kind, namespace, name);
        const have = specReplicas(live);
        if (current !== undefined && have !== current) throw new ConflictError(`Expected replicas to be ${current}, was ${have}`);
        if (opts.resourceVersion && live.metadata.resourceVersion !== opts.resourceVersion) {
          throw new ConflictError(`${kind.plural} "${name}" is at resourceVersion ${live.metadata.resourceVersion}, not ${opts.resourceVersion}`);
        }
        resourceVersion ??= live.metadata.resourceVersion;
      }
      if (opts.dryRun !== 'client') {
        await api.patch({
          kind: kind.plural, name, ...(namespace ? { namespace } : {}), type: 'merge', patch: { spec: { replicas: opts.replicas } },
          ...(resourceVersion ? { resourceVersion } : {}),
          ...(opts.dryRun === 'server' ? { dryRun: true } : {}),
        });
      }
      io.out(`${resourceName(kind, name)} scaled${suffix}\n`);
    } catch (e) {
      ok = false;
      io.printError(e);
    }
  }
  return ok;
}
