import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { runControlPlaneService } from '../../embedded/services';

/**
 * `mk control-plane`: runs a control plane replica in this process until SIGTERM/SIGINT. Bus
 * address from the context file; credentials of the `control-plane` role when `mk up` made them,
 * else the context's own. Any number may run against one cluster: they elect a leader on a lease
 * and the others stand by (`mk get leases -n mk-system`). `mk up` starts them.
 */
export default class ControlPlane extends MkCommand {
  static override summary = 'Run a control plane in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
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
      ...(flags['lease-seconds'] !== undefined ? { leaseSeconds: flags['lease-seconds'] } : {}),
      ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
    }));
  }
}
