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
    'node-ip': Flags.string({ description: 'the node\'s InternalIP (default: the first non-loopback IPv4 address)' }),
    'node-dir': Flags.string({ description: 'the node\'s own data directory (default: <data-dir>/node)' }),
    'cgroup-root': Flags.string({ description: 'the node\'s own cgroup above /kubepods (default: none)' }),
    'images-dir': Flags.string({ description: 'where the built-in images are built and cached (default: <node-dir>/images)' }),
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(NodeAgent);
    const code = await runNodeAgentService(this.dataDir(flags['data-dir']), {
      ...(flags['node-name'] ? { nodeName: flags['node-name'] } : {}),
      ...(flags['containerd-socket'] ? { containerdSocket: flags['containerd-socket'] } : {}),
      ...(flags['node-ip'] ? { nodeIP: flags['node-ip'] } : {}),
      ...(flags['node-dir'] ? { nodeDataDir: flags['node-dir'] } : {}),
      ...(flags['images-dir'] ? { imagesDir: flags['images-dir'] } : {}),
      ...(flags['cgroup-root'] ? { cgroupRoot: flags['cgroup-root'] } : {}),
    }, (l) => this.err(`node-agent: ${l}`));
    this.exit(code);
  }
}
