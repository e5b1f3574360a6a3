import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { resolveKind } from '../../../messages/registry';
import type { PodMetrics } from '../../../messages/usage';
import { renderTopPods, TOP_SORT_KEYS, type TopSortKey } from '../../output/top';
import { CliError } from '../../errors';
import { fetchMetrics, METRICS_NOT_AVAILABLE, renderMetrics } from '../../top';

/**
 * `mk top pods`: CPU and memory of pods (or of each container), from the node agents' latest
 * reports through the leader's mk.api.metrics, as kubectl top pod prints them.
 */
export default class TopPods extends MkCommand {
  static override summary = 'Show CPU and memory of pods';
  static override hiddenAliases = ['top:pod', 'top:po'];
  static override examples = [
    '<%= config.bin %> top pods',
    '<%= config.bin %> top pods -A --sort-by cpu',
    '<%= config.bin %> top pods web --containers',
    '<%= config.bin %> top pods -l app=web -o yaml',
  ];
  static override args = { name: Args.string({ description: 'one pod (default: all in the namespace)' }) };
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'pods of every namespace', default: false }),
    selector: Flags.string({ char: 'l', description: 'only pods whose labels match, e.g. app=web' }),
    containers: Flags.boolean({ description: 'one line per container', default: false }),
    'sort-by': Flags.string({ description: 'largest first by cpu or memory', options: [...TOP_SORT_KEYS] }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
  };

  /**
   * Prints the table; exit 1 with `error: metrics not available yet` when pods exist but have no
   * metrics yet, and `No resources found` (exit 0) when there are no pods.
   */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(TopPods);
    if (args.name && flags['all-namespaces']) throw new CliError('a pod name cannot be given with --all-namespaces (-A)');
    const namespace = flags['all-namespaces'] ? undefined : flags.namespace || 'default';
    await withClient(this.dataDir(flags['data-dir']), async (client) => {
      const res = await fetchMetrics(client, {
        kind: 'pods', ...(namespace ? { namespace } : {}), ...(args.name ? { name: args.name } : {}),
        ...(flags.selector ? { labelSelector: flags.selector } : {}),
      });
      const items = res.items as PodMetrics[];
      if (flags.output === 'json' || flags.output === 'yaml') {
        this.out(renderMetrics(flags.output, 'PodMetricsList', items, Boolean(args.name)));
        return;
      }
      if (items.length === 0) {
        const pods = await client.api.list(resolveKind('pods')!, namespace, flags.selector);
        if (pods.length > 0) throw new CliError(METRICS_NOT_AVAILABLE);
        this.err(namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
        return;
      }
      this.out(renderTopPods(items, {
        allNamespaces: !namespace, containers: flags.containers, noHeaders: flags['no-headers'], sortBy: flags['sort-by'] as TopSortKey | undefined,
      }));
    });
  }
}
