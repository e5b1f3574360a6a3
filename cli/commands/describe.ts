import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { describeObjects } from '../describe-objects';
import { kindsHelp } from '../kinds';

/**
 * `mk describe KIND [NAME...]`: the kind's own describe sections (kubectl's, for pods, nodes and
 * namespaces) or the generic ones. Without names it describes every object of the kind in the
 * namespace. The work is cli/describe-objects.ts, which bin/run.js also runs without oclif
 * (cli/fast-path.ts).
 */
export default class Describe extends MkCommand {
  static override summary = 'Show details of an object or group of objects';
  static override examples = ['<%= config.bin %> describe pod demo', '<%= config.bin %> describe nodes'];
  static override args = {
    kind: Args.string({ description: `kind: ${kindsHelp()}; or KIND/NAME`, required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = { ...namespaceFlags };

  /** Prints one description per object, separated by a blank line; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Describe);
    const code = await describeObjects({ args, flags });
    if (code !== 0) this.exit(code);
  }
}
