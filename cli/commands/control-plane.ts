import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { runControlPlaneService } from '../../embedded/services';

/**
 * `mk control-plane`: runs the control plane (api, scheduler, kind supervisors) in this process
 * until SIGTERM/SIGINT. Bus address from the context file; credentials of the `control-plane`
 * role when `mk up` made them, else the context's own. `mk up` starts it. The node lifecycle's
 * settings come from the flags, else from MK_NODE_MONITOR_GRACE_PERIOD,
 * MK_DEFAULT_NOT_READY_TOLERATION_SECONDS and MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS.
 */
export default class ControlPlane extends MkCommand {
  static override summary = 'Run the control plane in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
    'node-monitor-grace-period': Flags.string({
      description: 'how long a node may stop heartbeating before it is marked Unknown and tainted unreachable (default 40s)',
    }),
    'default-not-ready-toleration-seconds': Flags.integer({
      description: 'tolerationSeconds of the not-ready:NoExecute toleration every pod gets by default (default 300)', min: 0,
    }),
    'default-unreachable-toleration-seconds': Flags.integer({
      description: 'tolerationSeconds of the unreachable:NoExecute toleration every pod gets by default (default 300)', min: 0,
    }),
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(ControlPlane);
    this.exit(await runControlPlaneService(this.dataDir(flags['data-dir']), (l) => this.err(`control-plane: ${l}`), {
      nodeMonitorGracePeriod: flags['node-monitor-grace-period'],
      defaultNotReadyTolerationSeconds: flags['default-not-ready-toleration-seconds'],
      defaultUnreachableTolerationSeconds: flags['default-unreachable-toleration-seconds'],
    }));
  }
}
