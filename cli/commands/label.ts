import { Args } from '@oclif/core';
import { MkCommand } from '../base-command';
import { withClient } from '../client';
import { metadataFlags, runMetadataCommand } from '../metadata-command';

/**
 * `mk label KIND NAME... key=value key-`: sets and removes labels, one merge patch per object;
 * changing an existing value needs --overwrite. Prints `pod/NAME labeled` (`unlabeled`, `not labeled`).
 */
export default class Label extends MkCommand {
  static override summary = 'Update the labels of objects';
  static override examples = [
    '<%= config.bin %> label pod web tier=frontend',
    '<%= config.bin %> label pods --all tier=web --overwrite',
    '<%= config.bin %> label pod/web tier-',
  ];
  static override args = {
    args: Args.string({ description: 'KIND NAME... or KIND/NAME..., then key=value to set and key- to remove', multiple: true, required: true }),
  };
  static override flags = metadataFlags;

  /** Changes every named object; exit 1 when any failed. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Label);
    const io = { out: (t: string) => this.out(t), err: (l: string) => this.err(l), printError: (e: unknown) => this.printError(e) };
    const ok = await withClient(this.dataDir(flags['data-dir']), ({ api }) => runMetadataCommand(api, 'labels', args.args, flags, io));
    if (!ok) this.exit(1);
  }
}
