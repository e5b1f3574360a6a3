import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { planDrain, podsOnNode, setUnschedulable, waitPodsGone } from '../node-ops';
import { parseDuration } from '../../messages/duration';
import { isNotFound } from '../../messages/errors';
import { PodKind } from '../../messages/kinds/pod';

/**
 * `mk drain NODE`: cordons the node, then evicts its pods and waits until they are gone, as
 * kubectl drain does. Pods no controller manages (which nothing would replace) are refused unless
 * --force, DaemonSet pods unless --ignore-daemonsets (they are then left running), pods with
 * emptyDir data unless --delete-emptydir-data; a refusal evicts nothing and leaves the node
 * cordoned. Prints `evicting pod NS/NAME`, `pod/NAME evicted` and `node/NAME drained`.
 */
export default class Drain extends MkCommand {
  static override summary = 'Drain a node in preparation for maintenance';
  static override examples = [
    '<%= config.bin %> drain n1 --ignore-daemonsets',
    '<%= config.bin %> drain n1 --force --grace-period=5 --timeout=2m',
  ];
  static override args = { node: Args.string({ description: 'the node to drain', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'also evict pods that no controller manages (nothing will replace them)', default: false }),
    'ignore-daemonsets': Flags.boolean({ description: 'leave DaemonSet-managed pods running instead of refusing to drain', default: false }),
    'delete-emptydir-data': Flags.boolean({ description: 'evict pods with emptyDir volumes (their data is lost)', default: false }),
    'grace-period': Flags.integer({ description: 'seconds each pod gets to stop (-1: the pod\'s own)', default: -1, min: -1 }),
    timeout: Flags.string({ description: 'how long to wait for the pods to be gone before giving up (0s: no limit)', default: '0s' }),
  };

  /** Drains; exit 1 when pods are refused, an eviction fails or the wait times out. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Drain);
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(flags.timeout, '--timeout', { allowZero: true });
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const name = args.node;
    const dataDir = this.dataDir(flags['data-dir']);
    const io = { out: (t: string) => this.out(t), err: (t: string) => this.err(t), printErr: (e: unknown) => this.printError(e) };
    if (await setUnschedulable(io, dataDir, { names: [name] }, true) !== 0) this.exit(1);
    const grace = flags['grace-period'] >= 0 ? flags['grace-period'] : undefined;
    const code = await withClient(dataDir, async ({ api }) => {
      const plan = planDrain(await podsOnNode(api, name), {
        force: flags.force, ignoreDaemonsets: flags['ignore-daemonsets'], deleteEmptydirData: flags['delete-emptydir-data'],
      });
      if (plan.errors.length) {
        this.err(`error: unable to drain node "${name}": ${plan.errors.join('; ')}`);
        return 1;
      }
      for (const w of plan.warnings) this.err(w);
      const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
      for (const p of plan.evict) {
        this.out(`evicting pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}\n`);
        await api.delete(PodKind, p.metadata.namespace ?? 'default', p.metadata.name, { gracePeriodSeconds: grace }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
      const left = await waitPodsGone(api, plan.evict, deadline, (p) => this.out(`pod/${p.metadata.name} evicted\n`));
      if (left.length) {
        const names = left.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`).join(', ');
        this.err(`error: unable to drain node "${name}": timed out after ${flags.timeout} waiting for the pods to be gone: ${names}`);
        return 1;
      }
      this.out(`node/${name} drained\n`);
      return 0;
    });
    if (code !== 0) this.exit(code);
  }
}
