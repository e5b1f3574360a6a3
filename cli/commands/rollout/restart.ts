import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { rolloutTarget, rolloutRestart } from '../../rollout';

/** `mk rollout restart deploy/NAME` (or ds/NAME, sts/NAME): stamps the pod template with restartedAt, which rolls every pod anew. */
export default class RolloutRestart extends MkCommand {
  static override summary = 'Restart the pods of a deployment, daemon set or stateful set by a new rollout';
  static override examples = ['<%= config.bin %> rollout restart deploy/web', '<%= config.bin %> rollout restart ds/node-agent', '<%= config.bin %> rollout restart sts/web'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME, ds/NAME, sts/NAME or deploy NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutRestart);
    const t = rolloutTarget(args.targets, flags.namespace);
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutRestart(api, t, io));
  }
}
