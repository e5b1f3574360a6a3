import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { rolloutTarget, rolloutUndo } from '../../rollout';

/** `mk rollout undo deploy/NAME` (or sts/NAME, ds/NAME): rolls back to the previous revision, or to --to-revision. */
export default class RolloutUndo extends MkCommand {
  static override summary = 'Roll a deployment, stateful set or daemon set back to an earlier revision';
  static override examples = ['<%= config.bin %> rollout undo deploy/web', '<%= config.bin %> rollout undo deploy/web --to-revision=1', '<%= config.bin %> rollout undo sts/db'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME, sts/NAME or ds/NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    'to-revision': Flags.integer({ description: 'the revision to roll back to (0: the previous one)', default: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutUndo);
    const t = rolloutTarget(args.targets, flags.namespace);
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutUndo(api, t, flags['to-revision'], io));
  }
}
