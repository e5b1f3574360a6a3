import { Args, Flags } from '@oclif/core';
import { autoscale } from '../autoscale';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { dryRunFlag } from '../dry-run';
import { toJson, toYaml } from '../output/format';

/**
 * `mk autoscale deployment/web --min=2 --max=10 --cpu-percent=80`: makes a HorizontalPodAutoscaler
 * for an object with spec.replicas, like kubectl autoscale. Prints
 * `horizontalpodautoscaler.autoscaling/NAME autoscaled`, or the object with -o json|yaml.
 */
export default class Autoscale extends MkCommand {
  static override summary = 'Scale a deployment or replica set automatically on its pods\' cpu use';
  static override examples = [
    '<%= config.bin %> autoscale deployment/web --min=2 --max=10 --cpu-percent=80',
    '<%= config.bin %> autoscale deployment web --max=5',
    '<%= config.bin %> autoscale rs/web --max=4 --name=web-hpa',
  ];
  static override args = {
    targets: Args.string({ description: 'KIND NAME or KIND/NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    min: Flags.integer({ description: 'the fewest replicas (default 1)', default: -1 }),
    max: Flags.integer({ description: 'the most replicas (required)', required: true }),
    'cpu-percent': Flags.integer({ description: 'the target mean cpu use, in percent of the pods\' requests (default 80)', default: -1 }),
    name: Flags.string({ description: 'the name of the autoscaler (default: the name of the target)' }),
    output: Flags.string({ char: 'o', description: 'print the autoscaler instead: json or yaml', options: ['json', 'yaml'] }),
    ...dryRunFlag,
  };

  /** Makes the autoscaler; exit 1 on any error. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Autoscale);
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      const { line, hpa } = await autoscale(api, args.targets, {
        min: flags.min, max: flags.max, cpuPercent: flags['cpu-percent'], ...(flags.name ? { name: flags.name } : {}), namespace: flags.namespace,
      }, flags['dry-run'] as 'none' | 'client' | 'server');
      if (flags.output === 'json') this.out(toJson(hpa));
      else if (flags.output === 'yaml') this.out(toYaml(hpa));
      else this.out(line);
    });
  }
}
