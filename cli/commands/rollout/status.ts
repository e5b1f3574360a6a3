import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { parseDuration } from '../../../messages/duration';
import { rolloutTarget, rolloutStatus } from '../../rollout';

/** `mk rollout status deploy/NAME` (or ds/NAME, sts/NAME): waits until the rollout is done, printing kubectl's progress messages; exit 1 on ProgressDeadlineExceeded or the timeout. */
export default class RolloutStatus extends MkCommand {
  static override summary = 'Wait for a deployment\'s, daemon set\'s or stateful set\'s rollout to finish';
  static override examples = ['<%= config.bin %> rollout status deploy/web', '<%= config.bin %> rollout status deploy/web --timeout=2m', '<%= config.bin %> rollout status ds/node-agent', '<%= config.bin %> rollout status sts/web'];
  static override args = {
    targets: Args.string({ description: 'deploy/NAME, ds/NAME, sts/NAME or deploy NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    timeout: Flags.string({ description: 'how long to wait at most (30s, 5m; 0: no limit)', default: '0s' }),
    watch: Flags.boolean({ char: 'w', description: 'wait until done (--watch=false prints the state once)', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutStatus);
    const t = rolloutTarget(args.targets, flags.namespace);
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => rolloutStatus(api, t, flags.watch ? parseDuration(flags.timeout, '--timeout', { allowZero: true }) : -1, io));
  }
}
