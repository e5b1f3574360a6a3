import { Flags } from '@oclif/core';
import { metricsFlags, metricsOption, MkCommand } from '../base-command';
import { runControlPlaneService } from '../../embedded/services';

/**
 * `mk control-plane`: runs a control plane replica in this process until SIGTERM/SIGINT. Bus
 * address from the context file; credentials of the `control-plane` role when `mk up` made them,
 * else the context's own. Any number may run against one cluster: they elect a leader on a lease
 * and the others stand by (`mk get leases -n mk-system`). `mk up` starts them. The scheduler's
 * settings come from `<data-dir>/scheduler.json` and these flags (which win).; the node lifecycle's and the
 * pod CIDRs' from these flags, else the environment (actors/settings.ts), else Kubernetes' defaults.
 */
export default class ControlPlane extends MkCommand {
  static override summary = 'Run a control plane in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
    'scheduler-policy': Flags.string({
      description: 'how the scheduler picks among the nodes that fit: least-allocated (default) or round-robin',
    }),
    'unschedulable-flush-seconds': Flags.integer({
      description: 'seconds a pod that fits nowhere waits before it is tried again even if nothing changed (default 300)',
    }),
    'lease-seconds': Flags.integer({
      min: 1, env: 'MK_LEASE_SECONDS',
      description: 'how long a leader may go without renewing its lease before a standby takes over (default 15)',
    }),
    replicas: Flags.integer({
      min: 1, max: 5, env: 'MK_STREAM_REPLICAS',
      description: 'copies of each stream and bucket the control plane makes (default: 3 with 3 or more servers in the context, else 1)',
    }),
    'node-monitor-grace-period': Flags.string({
      description: 'how long a node may stop heartbeating before it is marked Unknown and tainted unreachable, e.g. 40s '
        + '(default 40s, or $MK_NODE_MONITOR_GRACE_PERIOD)',
    }),
    'default-not-ready-toleration-seconds': Flags.string({
      description: 'tolerationSeconds of the not-ready:NoExecute toleration every pod gets by default '
        + '(default 300, or $MK_DEFAULT_NOT_READY_TOLERATION_SECONDS)',
    }),
    'default-unreachable-toleration-seconds': Flags.string({
      description: 'tolerationSeconds of the unreachable:NoExecute toleration every pod gets by default '
        + '(default 300, or $MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS)',
    }),
    'cluster-cidr': Flags.string({
      description: 'the IPv4 range nodes\' pod CIDRs are cut from (default 10.244.0.0/16, or $MK_CLUSTER_CIDR)',
    }),
    'node-cidr-mask-size': Flags.string({
      description: 'the prefix length of each node\'s pod CIDR, longer than the cluster CIDR\'s (default 24, or $MK_NODE_CIDR_MASK_SIZE)',
    }),
    'service-cluster-ip-range': Flags.string({
      description: 'the IPv4 range Services\' cluster IPs are allocated from (default 10.96.0.0/12, or $MK_SERVICE_CLUSTER_IP_RANGE)',
    }),
    'service-node-port-range': Flags.string({
      description: 'the ports NodePort Services\' node ports are allocated from (default 30000-32767, or $MK_SERVICE_NODE_PORT_RANGE)',
    }),
    ...metricsFlags,
    'dashboard-port': Flags.integer({
      min: 0, max: 65535, env: 'MK_DASHBOARD_PORT',
      description: 'the port of the web dashboard (default: the one mk up chose, kept in the data directory)',
    }),
    'dashboard-address': Flags.string({
      env: 'MK_DASHBOARD_ADDRESS', description: 'the address the web dashboard listens on (default 127.0.0.1)',
    }),
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(ControlPlane);
    this.exit(await runControlPlaneService(this.dataDir(flags['data-dir']), (l) => this.err(`control-plane: ${l}`), {
      policy: flags['scheduler-policy'],
      unschedulableFlushSeconds: flags['unschedulable-flush-seconds'],
      ...(flags['lease-seconds'] !== undefined ? { leaseSeconds: flags['lease-seconds'] } : {}),
      ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
      ...metricsOption(flags),
      ...(flags['dashboard-port'] !== undefined ? { dashboardPort: flags['dashboard-port'] } : {}),
      ...(flags['dashboard-address'] ? { dashboardAddress: flags['dashboard-address'] } : {}),
    }, {
      nodeMonitorGracePeriodMs: flags['node-monitor-grace-period'],
      defaultNotReadyTolerationSeconds: flags['default-not-ready-toleration-seconds'],
      defaultUnreachableTolerationSeconds: flags['default-unreachable-toleration-seconds'],
      clusterCidr: flags['cluster-cidr'],
      nodeCidrMaskSize: flags['node-cidr-mask-size'],
      serviceClusterIpRange: flags['service-cluster-ip-range'],
      serviceNodePortRange: flags['service-node-port-range'],
    }));
  }
}
