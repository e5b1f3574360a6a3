import { Args } from '@oclif/core';
import { MkCommand } from '../base-command';
import { setUnschedulable } from '../node-ops';

/**
 * `mk cordon NODE...`: marks nodes unschedulable (spec.unschedulable), so the scheduler places no
 * new pods there; the pods already there keep running. Prints `node/NAME cordoned`, or
 * `node/NAME already cordoned`.
 */
export default class Cordon extends MkCommand {
  static override summary = 'Mark a node as unschedulable';
  static override examples = ['<%= config.bin %> cordon n1'];
  static override args = { nodes: Args.string({ description: 'node names', required: true }) };
  static override strict = false;

  /** Cordons each node; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Cordon);
    this.exit(await setUnschedulable({ out: (t) => this.out(t), printErr: (e) => this.printError(e) }, this.dataDir(flags['data-dir']), argv as string[], true));
  }
}
