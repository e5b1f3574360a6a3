import { Flags } from '@oclif/core';
import { MkCommand } from '../../base-command';
import { joinCommand, requireClusterDir } from '../../../embedded/join';
import { createToken, DEFAULT_TOKEN_TTL_MS, parseTtl } from '../../../embedded/tokens';

/**
 * `mk token create`: makes a join token (kubeadm's form, `abcdef.0123456789abcdef`) on the
 * machine that ran `mk up`, prints it once (only its hash is kept), or with
 * `--print-join-command` the whole command another machine runs to join.
 */
export default class TokenCreate extends MkCommand {
  static override summary = 'Create a token other machines join the cluster with';
  static override examples = [
    '<%= config.bin %> token create',
    '<%= config.bin %> token create --ttl 2h --description "rack 3"',
    '<%= config.bin %> token create --print-join-command',
  ];
  static override args = {};
  static override flags = {
    ttl: Flags.string({ description: 'how long the token works: 24h, 30m, 1h30m; 0 = never expires', default: '24h' }),
    description: Flags.string({ description: 'what the token is for (shown by mk token list)' }),
    'print-join-command': Flags.boolean({ description: 'print the whole mk node-agent --join command, not just the token', default: false }),
  };

  /** Prints the token, or the join command. */
  async run(): Promise<void> {
    const { flags } = await this.parse(TokenCreate);
    const dataDir = this.dataDir(flags['data-dir']);
    requireClusterDir(dataDir);
    const ttlMs = flags.ttl === undefined ? DEFAULT_TOKEN_TTL_MS : parseTtl(flags.ttl);
    const command = flags['print-join-command'] ? joinCommand(dataDir) : undefined;
    const { token } = createToken(dataDir, { ttlMs, ...(flags.description ? { description: flags.description } : {}) });
    this.out(`${command ? command(token) : token}\n`);
  }
}
