import { Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { fileFlags, forEachObject, readObjects } from '../manifest-flags';
import { appliedConfiguration, applyObject } from '../apply-merge';
import { dryRunFlag, dryRunSuffix, type DryRun } from '../dry-run';
import { resourceName, type KubeObject } from '../../messages';
import { codePathOf, resolveCodePath } from '../function-code';

/**
 * `mk apply -f FILE|DIR|-`: reads and validates every document first (bad input sends nothing),
 * then creates each object or merges it into the live one as kubectl's client-side apply does
 * (cli/apply-merge.ts), and prints `pod/NAME created|configured|unchanged` (`deployment.apps/NAME` for a kind in a group).
 * A Function whose spec.code names a `path` has that code packed, checked and uploaded first
 * (cli/function-code.ts), with a directory's requirements.txt or package.json dependencies
 * installed into a copy first unless `--no-deps` (cli/function-deps.ts), and is applied with the
 * code's digest instead; a dry run packs and checks it and sends its digest without installing or
 * uploading anything.
 */
export default class Apply extends MkCommand {
  static override summary = 'Apply a configuration to objects by file name or stdin';
  static override examples = [
    '<%= config.bin %> apply -f examples/demo-pod.yaml',
    'cat pod.yaml | <%= config.bin %> apply -f -',
    '<%= config.bin %> apply -f ./manifests -R',
  ];
  static override flags = {
    ...namespaceFlags,
    ...fileFlags(true),
    validate: Flags.string({
      description: 'strict (or true): unknown fields are errors; warn: they are warnings and dropped; false: no local checks beyond parsing',
      options: ['strict', 'warn', 'true', 'false', 'ignore'], default: 'strict',
    }),
    deps: Flags.boolean({
      description: 'for a Function whose spec.code.path is a directory: install its requirements.txt (python3) or package.json dependencies (node) before uploading; --no-deps uploads only what the directory holds',
      default: true, allowNo: true,
    }),
    ...dryRunFlag,
  };

  /** Applies every object; prints one line per object and exits 1 when any failed. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Apply);
    const dataDir = this.dataDir(flags['data-dir']);
    const quietWarnings = flags.validate === 'false' || flags.validate === 'ignore';
    const { docs, mode } = await readObjects(flags);
    const dryRun = flags['dry-run'];
    const suffix = dryRunSuffix(dryRun);

    let failed = false;
    await withClient(dataDir, async ({ api, bus }) => {
      failed = await forEachObject(docs, flags.namespace, async (d, namespace) => {
        const object = codePathOf(d.object) === undefined
          ? d.object
          : await resolveCodePath(d.object, d.source, bus, (line) => this.err(line), dryRun as DryRun, flags.deps) as KubeObject;
        const config = appliedConfiguration(object, d.kind, namespace);
        const res = await applyObject(api, d.kind, config, { validate: mode, dryRun: dryRun as DryRun });
        this.printWarnings(quietWarnings ? [] : [...d.warnings, ...res.warnings]);
        this.out(`${resourceName(d.kind, d.object.metadata.name)} ${res.result}${suffix}\n`);
      });
    });
    if (failed) this.exit(1);
  }

  private printWarnings(warnings: string[]): void {
    for (const w of new Set(warnings)) this.err(`Warning: ${w}`);
  }
}
