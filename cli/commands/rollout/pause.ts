import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { deploymentTarget, rolloutPause } from '../../rollout';

/** `mk rollout pause deploy/NAME`: stops the rollout where it is; template changes wait. */
export default class RolloutPause extends MkCommand {
  static override summary = 'Pause a deployment\'s rollout';
  static override examples = ['<%= config.bin %> rollout pause deploy/web'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME or deploy NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutPause);
    const t = deploymentTarget(args.targets, flags.namespace, 'pausing');
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutPause(api, t, true, io));
  }
}
