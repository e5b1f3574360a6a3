import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { appliedConfiguration } from '../apply-merge';
import { withClient } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { type ManifestDoc } from '../manifest-reader';
import { fileFlags, forEachObject, readObjects, validateFlag } from '../manifest-flags';
import { CliError } from '../errors';
import { AlreadyExistsError, isNotFound } from '../../messages';

/**
 * `mk create -f FILE|DIR|-`: reads and validates every document first, then creates each object
 * (AlreadyExists when it is there) and prints `pod/NAME created`. `mk create namespace NAME`
 * makes a namespace without a file, as kubectl's does.
 */
export default class Create extends MkCommand {
  static override summary = 'Create objects from a file or stdin';
  static override examples = [
    '<%= config.bin %> create -f examples/demo-pod.yaml',
    '<%= config.bin %> create -f pod.yaml --save-config',
    '<%= config.bin %> create namespace team-a',
  ];
  static override args = {
    what: Args.string({ description: 'namespace (or ns), to create one without a file', required: false }),
    name: Args.string({ description: 'the name of the namespace', required: false }),
  };
  static override flags = {
    ...namespaceFlags,
    ...fileFlags(false),
    ...validateFlag,
    'save-config': Flags.boolean({ description: 'record the configuration in the annotation mk apply reads, so a later apply merges with it', default: false }),
    ...dryRunFlag,
  };

  /** Creates every object; one line each; exit 1 when any failed. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Create);
    if (flags.filename && args.what) throw new CliError('give either -f or a namespace to create, not both');
    const { docs, mode } = await readObjects(flags, flags.filename ? undefined : imperative(args.what, args.name));
    const dryRun = flags['dry-run'];
    let failed = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      failed = await forEachObject(docs, flags.namespace, async (d, namespace) => {
        const name = d.object.metadata.name;
        const object = flags['save-config'] ? appliedConfiguration(d.object, d.kind, namespace) : d.object;
        for (const w of new Set(d.warnings)) this.err(`Warning: ${w}`);
        if (dryRun === 'client') {
          const exists = await api.get(d.kind, namespace, name).then(() => true, (e: unknown) => {
            if (isNotFound(e)) return false;
            throw e;
          });
          if (exists) throw new AlreadyExistsError(`${d.kind.plural} "${name}" already exists`);
        } else {
          await api.create({ object, validate: mode, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) });
        }
        this.out(`${d.kind.singular}/${name} created${dryRunSuffix(dryRun)}\n`);
      });
    });
    if (failed) this.exit(1);
  }
}

/** `mk create namespace NAME` as a manifest; CliError for anything else without -f. */
function imperative(what: string | undefined, name: string | undefined): ManifestDoc[] {
  if (what === undefined) throw new CliError('give the objects with -f FILE, or create a namespace with: mk create namespace NAME');
  if (!['namespace', 'namespaces', 'ns'].includes(what)) throw new CliError(`mk create makes "${what}" only from a file (-f); without one it makes namespaces: mk create namespace NAME`);
  if (!name) throw new CliError('give the name of the namespace: mk create namespace NAME');
  return [{ source: 'the command line', index: 1, doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }];
}
