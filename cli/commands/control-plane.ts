import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { runControlPlaneService } from '../../embedded/services';

/**
 * `mk control-plane`: runs a control plane replica in this process until SIGTERM/SIGINT. Bus
 * address from the context file; credentials of the `control-plane` role when `mk up` made them,
 * else the context's own. Any number may run against one cluster: they elect a leader on a lease
 * and the others stand by (`mk get leases -n mk-system`). `mk up` starts them. The scheduler's
 * settings come from `<data-dir>/scheduler.json` and these flags (which win).
 */
export default class ControlPlane extends MkCommand {
  static override summary = 'Run a control plane in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
    'scheduler-policy': Flags.string({
      description: 'how the scheduler picks among the nodes that fit: least-allocated (default) or round-robin',
    }),
    'unschedulable-flush-seconds': Flags.integer({
      description: 'seconds a pod that fits nowhere waits before it is tried again even if nothing changed (default 300)',
    }),
    'lease-seconds': Flags.integer({
      min: 1, env: 'MK_LEASE_SECONDS',
      description: 'how long a leader may go without renewing its lease before a standby takes over (default 15)',
    }),
    replicas: Flags.integer({
      min: 1, max: 5, env: 'MK_STREAM_REPLICAS',
      description: 'copies of each stream and bucket the control plane makes (default: 3 with 3 or more servers in the context, else 1)',
    }),
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(ControlPlane);
    this.exit(await runControlPlaneService(this.dataDir(flags['data-dir']), (l) => this.err(`control-plane: ${l}`), {
      policy: flags['scheduler-policy'],
      unschedulableFlushSeconds: flags['unschedulable-flush-seconds'],
      ...(flags['lease-seconds'] !== undefined ? { leaseSeconds: flags['lease-seconds'] } : {}),
      ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
    }));
  }
}
