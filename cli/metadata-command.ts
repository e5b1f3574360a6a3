/** The work of `mk label` and `mk annotate`, which differ only in the map they change. */
import { Flags } from '@oclif/core';
import { namespaceFlags } from './base-command';
import type { Api } from './client';
import { dryRunFlag, dryRunSuffix } from './dry-run';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';
import { metadataPatch, parseMetadataArgs } from './metadata-args';
import { isConflict, resourceName, type KubeObject } from '../messages';

/** The flags both commands take. */
export const metadataFlags = {
  ...namespaceFlags,
  overwrite: Flags.boolean({ description: 'allow changing the value of a key that is already set', default: false }),
  all: Flags.boolean({ description: 'every object of the kind in the namespace', default: false }),
  selector: Flags.string({ char: 'l', description: 'the objects matching this label selector' }),
  'resource-version': Flags.string({ description: 'change the object only if it is still at this resourceVersion (one object only)' }),
  ...dryRunFlag,
};

/** Parsed flags of either command. */
export interface MetadataFlags {
  namespace?: string;
  overwrite: boolean;
  all: boolean;
  selector?: string;
  'resource-version'?: string;
  'dry-run': string;
}

/** Where the command writes its lines. */
export interface MetadataIo { out(text: string): void; err(line: string): void; printError(e: unknown): void }

const RETRIES = 5;

/**
 * Applies the changes in `argv` to each named object, one merge patch each at the resourceVersion
 * read (read again when another writer came first). Returns false when any object failed.
 */
export async function runMetadataCommand(api: Api, field: 'labels' | 'annotations', argv: string[], flags: MetadataFlags, io: MetadataIo): Promise<boolean> {
  const what = field === 'labels' ? 'label' : 'annotation';
  const { targets, changes } = parseMetadataArgs(argv, what);
  const [first, ...rest] = targets;
  const { kind, names } = parseTargets(first, rest);
  const namespace = namespaceFor(kind, flags.namespace);
  if (names.length > 0 && (flags.all || flags.selector)) throw new CliError('names cannot be given together with --selector or --all');
  if (names.length === 0 && !flags.all && !flags.selector) throw new CliError(`give the names of the objects, -l SELECTOR or --all`);
  if (flags['resource-version'] && names.length !== 1) throw new CliError('--resource-version needs exactly one object');
  const list = names.length > 0 ? names : (await api.list(kind, namespace, flags.selector)).map((o) => o.metadata.name);
  const dryRun = flags['dry-run'];
  let ok = true;
  for (const name of list) {
    try {
      let verb = '';
      for (let attempt = 0; ; attempt++) {
        const live: KubeObject = await api.get(kind, namespace, name);
        const missing: string[] = [];
        const patch = metadataPatch(field, live.metadata[field], changes, flags.overwrite, missing);
        if (attempt === 0) for (const k of missing) io.err(`${what} "${k}" not found.`);
        verb = outcome(field, patch);
        if (!patch || dryRun === 'client') break;
        try {
          await api.patch({
            kind: kind.plural, name, ...(namespace ? { namespace } : {}), type: 'merge', patch,
            resourceVersion: flags['resource-version'] ?? live.metadata.resourceVersion, ...(dryRun === 'server' ? { dryRun: true } : {}),
          });
          break;
        } catch (e) {
          if (!isConflict(e) || flags['resource-version'] || attempt >= RETRIES) throw e;
        }
      }
      io.out(`${resourceName(kind, name)} ${verb}${dryRunSuffix(dryRun)}\n`);
    } catch (e) {
      ok = false;
      io.printError(e);
    }
  }
  return ok;
}

/** kubectl's word for what happened: labeled, unlabeled, not labeled; annotated. */
function outcome(field: 'labels' | 'annotations', patch: Record<string, unknown> | null): string {
  if (field === 'annotations') return 'annotated';
  if (!patch) return 'not labeled';
  const values = Object.values((patch.metadata as Record<string, Record<string, unknown>>).labels);
  return values.every((v) => v === null) ? 'unlabeled' : 'labeled';
}
