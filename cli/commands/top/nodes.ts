import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../../base-command';
import { withClient } from '../../client';
import { resolveKind } from '../../../messages/registry';
import type { NodeMetrics } from '../../../messages/usage';
import { renderTopNodes, TOP_SORT_KEYS, type TopSortKey } from '../../output/top';
import { CliError } from '../../errors';
import { fetchMetrics, METRICS_NOT_AVAILABLE, renderMetrics } from '../../top';

/**
 * `mk top nodes`: CPU and memory of each node's machine, and their share of its capacity, as
 * kubectl top node prints them; nodes that have not reported yet show `<unknown>`.
 */
export default class TopNodes extends MkCommand {
  static override summary = 'Show CPU and memory of nodes';
  static override hiddenAliases = ['top:node', 'top:no'];
  static override examples = ['<%= config.bin %> top nodes', '<%= config.bin %> top nodes --sort-by memory', '<%= config.bin %> top nodes node-1 -o json'];
  static override args = { name: Args.string({ description: 'one node (default: all)' }) };
  static override flags = {
    selector: Flags.string({ char: 'l', description: 'only nodes whose labels match, e.g. zone=a' }),
    'sort-by': Flags.string({ description: 'largest first by cpu or memory', options: [...TOP_SORT_KEYS] }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
  };

  /** Prints the table; exit 1 with `error: metrics not available yet` when no node has reported. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(TopNodes);
    await withClient(this.dataDir(flags['data-dir']), async (client) => {
      const res = await fetchMetrics(client, {
        kind: 'nodes', ...(args.name ? { name: args.name } : {}), ...(flags.selector ? { labelSelector: flags.selector } : {}),
      });
      const items = res.items as NodeMetrics[];
      if (flags.output === 'json' || flags.output === 'yaml') {
        this.out(renderMetrics(flags.output, 'NodeMetricsList', items, Boolean(args.name)));
        return;
      }
      if (items.length === 0) throw new CliError(METRICS_NOT_AVAILABLE);
      const reported = new Set(items.map((n) => n.metadata.name));
      const withoutMetrics = args.name ? [] : (await client.api.list(resolveKind('nodes')!, undefined, flags.selector))
        .map((n) => n.metadata.name).filter((n) => !reported.has(n)).sort();
      this.out(renderTopNodes(items, { sortBy: flags['sort-by'] as TopSortKey | undefined, noHeaders: flags['no-headers'], withoutMetrics }));
    });
  }
}
