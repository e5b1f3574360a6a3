import { Flags } from '@oclif/core';
import { MkCommand } from '../../base-command';
import { toJson, toYaml } from '../../output/format';
import { renderTable } from '../../output/tabwriter';
import { requireClusterDir } from '../../../embedded/join';
import { listTokens, type StoredToken } from '../../../embedded/tokens';

/** A time left as kubeadm shows it: `23h`, `59m`, `30s`; `<forever>` without expiry. */
export function ttlLeft(t: StoredToken, now: number): string {
  if (!t.expires) return '<forever>';
  const s = Math.max(0, Math.floor((Date.parse(t.expires) - now) / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

/**
 * `mk token list`: the join tokens that still work (TOKEN is the id: the secret is never shown
 * again after creation), with their time left, expiry and description.
 */
export default class TokenList extends MkCommand {
  static override summary = 'List join tokens';
  static override examples = ['<%= config.bin %> token list', '<%= config.bin %> token list -o json'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
  };

  /** Prints the table, or the tokens as JSON or YAML (without secrets). */
  async run(): Promise<void> {
    const { flags } = await this.parse(TokenList);
    const dataDir = this.dataDir(flags['data-dir']);
    requireClusterDir(dataDir);
    const now = Date.now();
    const tokens = listTokens(dataDir, now);
    if (flags.output) {
      const items = tokens.map((t) => ({ id: t.id, ...(t.description ? { description: t.description } : {}), created: t.created, ...(t.expires ? { expires: t.expires } : {}) }));
      this.out(flags.output === 'json' ? toJson({ tokens: items }) : toYaml({ tokens: items }));
      return;
    }
    if (tokens.length === 0) {
      this.err('No join tokens (mk token create makes one).');
      return;
    }
    const rows = tokens.map((t) => [t.id, ttlLeft(t, now), t.expires ?? '<never>', t.description ?? '<none>']);
    this.out(renderTable(flags['no-headers'] ? null : ['TOKEN', 'TTL', 'EXPIRES', 'DESCRIPTION'], rows));
  }
}
