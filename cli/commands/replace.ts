import { Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { appliedConfiguration } from '../apply-merge';
import { withClient } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { fileFlags, forEachObject, readObjects, validateFlag } from '../manifest-flags';
import { LAST_APPLIED_ANNOTATION, resourceName } from '../../messages';

/**
 * `mk replace -f FILE|DIR|-`: replaces each object with the one in the file (NotFound when it is
 * not there). A `metadata.resourceVersion` in the file must be the live one, else the server
 * answers Conflict; without one the replace is unconditional. Prints `pod/NAME replaced`.
 */
export default class Replace extends MkCommand {
  static override summary = 'Replace objects by file name or stdin';
  static override examples = [
    '<%= config.bin %> replace -f pod.yaml',
    '<%= config.bin %> get pod web -o yaml | sed "s/1.35/1.36/" | <%= config.bin %> replace -f -',
  ];
  static override flags = {
    ...namespaceFlags,
    ...fileFlags(true),
    ...validateFlag,
    'save-config': Flags.boolean({ description: 'record the configuration in the annotation mk apply reads', default: false }),
    ...dryRunFlag,
  };

  /** Replaces every object; one line each; exit 1 when any failed. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Replace);
    const { docs, mode } = await readObjects(flags);
    const dryRun = flags['dry-run'];
    let failed = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      failed = await forEachObject(docs, flags.namespace, async (d, namespace) => {
        const name = d.object.metadata.name;
        for (const w of new Set(d.warnings)) this.err(`Warning: ${w}`);
        let object = d.object;
        if (flags['save-config']) {
          const saved = appliedConfiguration(d.object, d.kind, namespace);
          const annotations = { ...(d.object.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: saved.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '' };
          object = { ...d.object, metadata: { ...d.object.metadata, annotations } };
        }
        if (dryRun === 'client') await api.get(d.kind, namespace, name);
        else await api.update({ object, validate: mode, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) });
        this.out(`${resourceName(d.kind, name)} replaced${dryRunSuffix(dryRun)}\n`);
      });
    });
    if (failed) this.exit(1);
  }
}
