import { MkCommand } from '../base-command';
import { CONTROL_PLANE_USER, readCredentials } from '../cluster/credentials';
import { clusterPaths } from '../cluster/paths';
import { readContext } from '../context';
import { serveUntilSignal } from '../serve-until-signal';

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
    const paths = clusterPaths(this.dataDir(flags['data-dir']));
    const ctx = readContext(paths.dataDir);
    const pass = readCredentials(paths)?.users[CONTROL_PLANE_USER];
    const { runControlPlane } = await import('../../actors/index.js');
    const cp = await runControlPlane({
      bus: { servers: ctx.servers, user: pass ? CONTROL_PLANE_USER : ctx.user, pass: pass ?? ctx.pass, name: 'mk-control-plane' },
      dataDir: paths.controlPlaneData,
    });
    const code = await serveUntilSignal(() => cp.stop(), (l) => this.err(`control-plane: ${l}`));
    this.exit(code);
  }
}
