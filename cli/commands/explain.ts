import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { kindArg } from '../kinds';
import { explain } from '../output/explain';

/**
 * `mk explain KIND[.FIELD...]`: the documentation of a kind or one of its fields, from the schema
 * the api validates manifests with. Needs no running cluster.
 */
export default class Explain extends MkCommand {
  static override summary = 'Get the documentation of a kind or one of its fields';
  static override examples = ['<%= config.bin %> explain pods', '<%= config.bin %> explain pods.spec.containers', '<%= config.bin %> explain pod --recursive'];
  static override args = {
    path: Args.string({ description: 'KIND or KIND.FIELD.FIELD..., e.g. pods.spec.containers', required: true }),
  };
  static override flags = {
    recursive: Flags.boolean({ description: 'print the fields of fields, as a tree, without descriptions', default: false }),
  };

  /** Prints the explanation; exit 1 for an unknown kind or field. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Explain);
    const [kindName, ...path] = args.path.split('.');
    this.out(explain(kindArg(kindName), path, { recursive: flags.recursive }));
  }
}
