import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { dryRunFlag } from '../dry-run';
import { scaleObjects } from '../scale';

/**
 * `mk scale rs/NAME --replicas=N`: sets the replicas of objects that have them, like kubectl
 * scale, with its --current-replicas and --resource-version preconditions. Prints
 * `replicaset.apps/NAME scaled`; exit 1 when any object could not be scaled.
 */
export default class Scale extends MkCommand {
  static override summary = 'Set the number of replicas of a replica set';
  static override examples = [
    '<%= config.bin %> scale rs/web --replicas=3',
    '<%= config.bin %> scale replicaset web --replicas 0',
    '<%= config.bin %> scale rs web --current-replicas=2 --replicas=3',
    '<%= config.bin %> scale rs -l tier=web --replicas=2',
  ];
  static override args = {
    targets: Args.string({ description: 'KIND NAME... or KIND/NAME...', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    replicas: Flags.integer({ description: 'the new number of replicas', required: true }),
    'current-replicas': Flags.integer({ description: 'scale only if the object has this many replicas now (-1: no condition)', default: -1 }),
    'resource-version': Flags.string({ description: 'scale only if the object is still at this resourceVersion' }),
    all: Flags.boolean({ description: 'scale every object of the kind in the namespace' }),
    selector: Flags.string({ char: 'l', description: 'scale the objects of the kind whose labels match, as in mk get -l' }),
    ...dryRunFlag,
  };

  /** Scales every named object; exit 1 when any failed. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Scale);
    const io = { out: (t: string) => this.out(t), printError: (e: unknown) => this.printError(e) };
    const ok = await withClient(this.dataDir(flags['data-dir']), ({ api }) => scaleObjects(api, args.targets, {
      replicas: flags.replicas,
      currentReplicas: flags['current-replicas'],
      resourceVersion: flags['resource-version'],
      namespace: flags.namespace,
      all: flags.all,
      selector: flags.selector,
      dryRun: flags['dry-run'] as 'none' | 'client' | 'server',
    }, io));
    if (!ok) this.exit(1);
  }
}
