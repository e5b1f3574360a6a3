import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { deploymentTarget, rolloutPause } from '../../rollout';

/** `mk rollout resume deploy/NAME`: lets a paused rollout go on. */
export default class RolloutResume extends MkCommand {
  static override summary = 'Resume a paused deployment';
  static override examples = ['<%= config.bin %> rollout resume deploy/web'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME or deploy NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutResume);
    const t = deploymentTarget(args.targets, flags.namespace, 'resuming');
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutPause(api, t, false, io));
  }
}
