import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { cancelRun } from '../../workflow-wait';
import { DEFAULT_NAMESPACE } from '../../../messages';

/**
 * `mk workflow cancel RUN [--reason TEXT]`: asks a WorkflowRun to stop by setting its
 * spec.cancel (the one change a run's spec allows); the controller abandons its tasks and timers
 * and the run ends Cancelled. Prints `workflowrun.mk.io/RUN cancelled`. A run that has already
 * ended is left as it is: the command says how it ended and exits 0. A missing run is NotFound,
 * exit 1.
 */
export default class WorkflowCancel extends MkCommand {
  static override summary = 'Cancel a workflow run';
  static override examples = [
    '<%= config.bin %> workflow cancel check-order-x7k2p',
    '<%= config.bin %> workflow cancel check-order-x7k2p --reason "wrong input" -n shop',
  ];
  static override args = {
    run: Args.string({ description: 'the WorkflowRun to cancel', required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    reason: Flags.string({ description: 'why, as the run\'s history and error record it (default: "cancelled")' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowCancel);
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const r = await withClient(this.dataDir(flags['data-dir']), ({ api }) => cancelRun(api, namespace, args.run, flags.reason));
    if (r.type === 'ended') this.out(`workflowrun.mk.io/${args.run} already ended (${r.run.status?.phase ?? 'Unknown'})\n`);
    else this.out(`workflowrun.mk.io/${args.run} cancelled\n`);
  }
}
