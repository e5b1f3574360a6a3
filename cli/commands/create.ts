import { Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { appliedConfiguration } from '../apply-merge';
import { withClient } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { readManifests, validateAll } from '../manifest-reader';
import { AlreadyExistsError, DEFAULT_NAMESPACE, isNotFound, type ValidateMode } from '../../messages';
import { checkNamespaces } from './apply';

/**
 * `mk create -f FILE|DIR|-`: reads and validates every document first, then creates each object
 * (AlreadyExists when it is there) and prints `pod/NAME created`.
 */
export default class Create extends MkCommand {
  static override summary = 'Create objects from a file or stdin';
  static override examples = [
    '<%= config.bin %> create -f examples/demo-pod.yaml',
    '<%= config.bin %> create -f pod.yaml --save-config',
  ];
  static override flags = {
    ...namespaceFlags,
    filename: Flags.string({ char: 'f', description: 'file, directory or - (stdin) with the objects', required: true, multiple: true, multipleNonGreedy: true }),
    recursive: Flags.boolean({ char: 'R', description: 'process directories recursively', default: false }),
    validate: Flags.string({ description: 'strict: unknown fields are errors; warn: they are warnings and dropped', options: ['strict', 'warn', 'true', 'false'], default: 'strict' }),
    'save-config': Flags.boolean({ description: 'record the configuration in the annotation mk apply reads, so a later apply merges with it', default: false }),
    ...dryRunFlag,
  };

  /** Creates every object; one line each; exit 1 when any failed. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Create);
    const mode: ValidateMode = flags.validate === 'strict' || flags.validate === 'true' ? 'strict' : 'warn';
    const docs = validateAll(await readManifests(flags.filename, { recursive: flags.recursive }), mode);
    checkNamespaces(docs, flags.namespace);
    const dryRun = flags['dry-run'];
    let failed = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      for (const d of docs) {
        const name = d.object.metadata.name;
        const namespace = d.kind.namespaced ? d.object.metadata.namespace ?? flags.namespace ?? DEFAULT_NAMESPACE : undefined;
        try {
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
        } catch (e) {
          failed = true;
          this.printError(e);
        }
      }
    });
    if (failed) this.exit(1);
  }
}
