import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { stopCluster } from '../../embedded/stop';

/**
 * `mk down`: tears down the node (pods, network, containerd), stops the supervisor and its
 * children, and keeps the data (`--purge` deletes it).
 */
export default class Down extends MkCommand {
  static override summary = 'Stop the cluster started by mk up (its objects survive unless --purge)';
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --purge'];
  static override flags = {
    purge: Flags.boolean({ description: 'also delete the data directory (all objects, images, logs, credentials)', default: false }),
    timeout: Flags.integer({ description: 'seconds the node gets to tear down its pods and network', default: 120, min: 1 }),
  };

  /** Stops the cluster; not running is not an error. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Down);
    await stopCluster({
      dataDir: this.dataDir(flags['data-dir']),
      purge: flags.purge,
      teardownTimeoutMs: flags.timeout * 1000,
      print: (l) => this.out(`${l}\n`),
      warn: (l) => this.err(l),
    });
  }
}
