import { MkCommand } from '../base-command';
import { runControlPlaneService } from '../../embedded/services';

/**
 * `mk control-plane`: runs the control plane (api, scheduler, kind supervisors) in this process
 * until SIGTERM/SIGINT. Bus address from the context file; credentials of the `control-plane`
 * role when `mk up` made them, else the context's own. `mk up` starts it.
 */
export default class ControlPlane extends MkCommand {
  static override summary = 'Run the control plane in the foreground (mk up starts it for you)';
  static override hidden = true;

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(ControlPlane);
    this.exit(await runControlPlaneService(this.dataDir(flags['data-dir']), (l) => this.err(`control-plane: ${l}`)));
  }
}
