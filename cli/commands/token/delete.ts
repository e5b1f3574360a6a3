import { Args } from '@oclif/core';
import { MkCommand } from '../../base-command';
import { requireClusterDir } from '../../../embedded/join';
import { deleteToken } from '../../../embedded/tokens';

/**
 * `mk token delete <id>...`: removes join tokens (by id, or by the whole token), so they can no
 * longer join machines. Nodes that joined with them keep their own credentials.
 */
export default class TokenDelete extends MkCommand {
  static override summary = 'Delete join tokens';
  static override examples = ['<%= config.bin %> token delete abcdef'];
  static override strict = false;
  static override args = { id: Args.string({ description: 'token id (abcdef) or whole token', required: true }) };

  /** Deletes each token named; exit 1 when one of them is not found (the others are still deleted). */
  async run(): Promise<void> {
    const { argv, flags } = await this.parse(TokenDelete);
    const dataDir = this.dataDir(flags['data-dir']);
    requireClusterDir(dataDir);
    let failed = false;
    for (const id of argv as string[]) {
      try {
        deleteToken(dataDir, id);
        this.out(`token "${id.split('.')[0]}" deleted\n`);
      } catch (err) {
        this.printError(err);
        failed = true;
      }
    }
    if (failed) this.exit(1);
  }
}
