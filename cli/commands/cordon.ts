import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { setUnschedulable } from '../node-ops';

/**
 * `mk cordon NODE...`: marks nodes unschedulable (spec.unschedulable), so the scheduler places no
 * new pods there; the pods already there keep running. Prints `node/NAME cordoned`, or
 * `node/NAME already cordoned`. `-l SELECTOR` takes the nodes matching a label selector.
 */
export default class Cordon extends MkCommand {
  static override summary = 'Mark a node as unschedulable';
  static override examples = ['<%= config.bin %> cordon n1'];
  static override args = { nodes: Args.string({ description: 'node names' }) };
  static override flags = { selector: Flags.string({ char: 'l', description: 'the nodes matching this label selector, instead of names' }) };
  static override strict = false;

  /** Cordons each node; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Cordon);
    const io = { out: (t: string) => this.out(t), err: (t: string) => this.err(t), printErr: (e: unknown) => this.printError(e) };
    this.exit(await setUnschedulable(io, this.dataDir(flags['data-dir']), { names: argv as string[], selector: flags.selector }, true));
  }
}
