import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { rolloutHistory, rolloutTarget } from '../../rollout';

/** `mk rollout history deploy/NAME` (or sts/NAME, ds/NAME): the revisions kept and their change-cause, or one revision's template. */
export default class RolloutHistory extends MkCommand {
  static override summary = 'Show the revisions of a deployment, stateful set or daemon set';
  static override examples = ['<%= config.bin %> rollout history deploy/web', '<%= config.bin %> rollout history deploy/web --revision=2', '<%= config.bin %> rollout history sts/db'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME, sts/NAME or ds/NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    revision: Flags.integer({ description: 'show the pod template of this revision', default: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutHistory);
    const t = rolloutTarget(args.targets, flags.namespace);
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutHistory(api, t, flags.revision, io));
  }
}
