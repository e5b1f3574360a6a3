import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { nodeUser, readCredentials } from '../cluster/credentials';
import { clusterPaths } from '../cluster/paths';
import { readContext } from '../context';
import { CliError } from '../errors';
import { dns1123LabelError } from '../../messages';
import { serveUntilSignal } from '../serve-until-signal';

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
    const paths = clusterPaths(this.dataDir(flags['data-dir']));
    const ctx = readContext(paths.dataDir);
    const nodeName = flags['node-name'] ?? ctx.nodeName;
    const bad = dns1123LabelError(nodeName);
    if (bad) throw new CliError(`invalid node name "${nodeName}": ${bad}`);
    const pass = readCredentials(paths)?.users[nodeUser(nodeName)];
    const { runNodeAgent } = await import('../../node-agent/index.js');
    const agent = await runNodeAgent({
      bus: { servers: ctx.servers, user: pass ? nodeUser(nodeName) : ctx.user, pass: pass ?? ctx.pass, name: `mk-node-${nodeName}` },
      nodeName,
      dataDir: paths.nodeData,
      ...(flags['containerd-socket'] ? { containerdSocket: flags['containerd-socket'] } : {}),
    });
    const code = await serveUntilSignal(() => agent.stop(), (l) => this.err(`node-agent: ${l}`));
    this.exit(code);
  }
}
