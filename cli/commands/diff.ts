import { Errors } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { appliedConfiguration, mergedForApply } from '../apply-merge';
import { withClient } from '../client';
import { fileFlags, objectNamespace, readObjects, validateFlag } from '../manifest-flags';
import { toYaml } from '../output/format';
import { maskSecrets } from '../output/mask-secrets';
import { unifiedDiff } from '../output/unified-diff';
import { isNotFound, type KubeObject } from '../../messages';

/**
 * `mk diff -f FILE`: for each object, the unified diff of the live object against what `mk apply`
 * would make of it, as the server's dry run answers (so defaults and admission show); a Secret's
 * values are masked (`***`), as kubectl diff masks them. Exit status
 * as kubectl diff's: 0 when nothing would change, 1 when something would, 2 on an error.
 */
export default class Diff extends MkCommand {
  static override summary = 'Show what mk apply would change, against the live objects';
  static override examples = ['<%= config.bin %> diff -f pod.yaml', 'cat pod.yaml | <%= config.bin %> diff -f -'];
  static override flags = {
    ...namespaceFlags,
    ...fileFlags(true),
    ...validateFlag,
  };

  /** Prints the diffs; exits 1 when there is one. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Diff);
    const { docs, mode } = await readObjects(flags);
    let differs = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      for (const d of docs) {
        const namespace = objectNamespace(d, flags.namespace);
        const config = appliedConfiguration(d.object, d.kind, namespace);
        const live = await api.get(d.kind, namespace, config.metadata.name).catch((e: unknown) => {
          if (isNotFound(e)) return undefined;
          throw e;
        });
        const scope = namespace ? { namespace } : {};
        const merged: KubeObject = live
          ? (await api.update({ object: mergedForApply(config, live), validate: mode, ...scope, dryRun: true })).object
          : (await api.create({ object: config, validate: mode, ...scope, dryRun: true })).object;
        const file = [d.kind.apiVersion.replace('/', '.'), d.kind.kind, namespace, config.metadata.name].filter(Boolean).join('.');
        // A Secret's values never reach the terminal: only which keys change (kubectl diff's masking).
        const [before, after] = maskSecrets(live, merged);
        const text = unifiedDiff(before ? toYaml(before) : '', toYaml(after!), `LIVE/${file}`, `MERGED/${file}`);
        if (text) {
          differs = true;
          this.out(`diff -u -N LIVE/${file} MERGED/${file}\n${text}`);
        }
      }
    });
    if (differs) this.exit(1);
  }

  /** kubectl diff's habit: an error exits 2, so that 1 means "there are differences". */
  protected override async catch(e: Error & { exitCode?: number }): Promise<unknown> {
    if (e instanceof Errors.ExitError) throw e;
    this.printError(e);
    return Errors.exit(2);
  }
}
