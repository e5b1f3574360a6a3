import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { runNodeAgentService } from '../../embedded/services';

/**
 * `mk node-agent`: runs this machine's node agent until SIGTERM/SIGINT (stop leaves pods running
 * for the next start to adopt; `mk down` asks for a teardown first). Credentials of the
 * `node-<name>` role when `mk up` made them, else the context's own. `mk up` starts it.
 */
export default class NodeAgent extends MkCommand {
  static override summary = 'Run the node agent in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
    'node-name': Flags.string({ description: 'this node\'s name (default: the context\'s)' }),
    'containerd-socket': Flags.string({ description: 'use this containerd instead of starting one' }),
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(NodeAgent);
    const code = await runNodeAgentService(this.dataDir(flags['data-dir']), {
      ...(flags['node-name'] ? { nodeName: flags['node-name'] } : {}),
      ...(flags['containerd-socket'] ? { containerdSocket: flags['containerd-socket'] } : {}),
    }, (l) => this.err(`node-agent: ${l}`));
    this.exit(code);
  }
}
