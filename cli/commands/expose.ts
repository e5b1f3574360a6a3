import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { dryRunFlag } from '../dry-run';
import { expose } from '../expose';
import { toJson, toYaml } from '../output/format';

/**
 * `mk expose deployment web --port=80 --target-port=8080 --type=NodePort`: makes a Service for a
 * deployment, replica set, pod or service, like kubectl expose. Prints `service/NAME exposed`, or
 * the service with -o json|yaml.
 */
export default class Expose extends MkCommand {
  static override summary = 'Make a service for a deployment, replica set, pod or service';
  static override examples = [
    '<%= config.bin %> expose deployment web --port=80 --target-port=8080',
    '<%= config.bin %> expose deploy/web --type=NodePort --name=web-np',
    '<%= config.bin %> expose pod db --port=5432 --cluster-ip=None',
    '<%= config.bin %> expose deployment web --port=80 --dry-run=client -o yaml',
  ];
  static override args = {
    targets: Args.string({ description: 'KIND NAME or KIND/NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    port: Flags.integer({ description: 'the port the service serves on (default: the object\'s container or service ports)' }),
    'target-port': Flags.string({ description: 'the pods\' port (a number or a container port name) traffic goes to (default: the port)' }),
    type: Flags.string({ description: 'ClusterIP (default), NodePort, LoadBalancer or ExternalName' }),
    name: Flags.string({ description: 'the name of the service (default: the name of the object)' }),
    protocol: Flags.string({ description: 'TCP (default), UDP or SCTP' }),
    selector: Flags.string({ description: 'the pods to serve, k=v,k2=v2 (default: the object\'s selector or a pod\'s labels)' }),
    'cluster-ip': Flags.string({ description: 'a chosen cluster IP, or None for a headless service (default: allocated)' }),
    output: Flags.string({ char: 'o', description: 'print the service instead: json or yaml', options: ['json', 'yaml'] }),
    ...dryRunFlag,
  };

  /** Makes the service; exit 1 on any error. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Expose);
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      const { line, service } = await expose(api, args.targets, {
        port: flags.port, targetPort: flags['target-port'], type: flags.type, name: flags.name, protocol: flags.protocol,
        selector: flags.selector, clusterIP: flags['cluster-ip'], namespace: flags.namespace,
      }, flags['dry-run'] as 'none' | 'client' | 'server');
      if (flags.output === 'json') this.out(toJson(service));
      else if (flags.output === 'yaml') this.out(toYaml(service));
      else this.out(line);
    });
  }
}
