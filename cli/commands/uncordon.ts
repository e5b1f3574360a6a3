import { Args } from '@oclif/core';
import { MkCommand } from '../base-command';
import { setUnschedulable } from '../node-ops';

/**
 * `mk uncordon NODE...`: marks nodes schedulable again. Prints `node/NAME uncordoned`, or
 * `node/NAME already uncordoned`.
 */
export default class Uncordon extends MkCommand {
  static override summary = 'Mark a node as schedulable';
  static override examples = ['<%= config.bin %> uncordon n1'];
  static override args = { nodes: Args.string({ description: 'node names', required: true }) };
  static override strict = false;

  /** Uncordons each node; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Uncordon);
    this.exit(await setUnschedulable({ out: (t) => this.out(t), printErr: (e) => this.printError(e) }, this.dataDir(flags['data-dir']), argv as string[], false));
  }
}
