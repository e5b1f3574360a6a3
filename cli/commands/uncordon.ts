import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { setUnschedulable } from '../node-ops';

/**
 * `mk uncordon NODE...`: marks nodes schedulable again. Prints `node/NAME uncordoned`, or
 * `node/NAME already uncordoned`. `-l SELECTOR` takes the nodes matching a label selector.
 */
export default class Uncordon extends MkCommand {
  static override summary = 'Mark a node as schedulable';
  static override examples = ['<%= config.bin %> uncordon n1'];
  static override args = { nodes: Args.string({ description: 'node names' }) };
  static override flags = { selector: Flags.string({ char: 'l', description: 'the nodes matching this label selector, instead of names' }) };
  static override strict = false;

  /** Uncordons each node; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Uncordon);
    const io = { out: (t: string) => this.out(t), err: (t: string) => this.err(t), printErr: (e: unknown) => this.printError(e) };
    this.exit(await setUnschedulable(io, this.dataDir(flags['data-dir']), { names: argv as string[], selector: flags.selector }, false));
  }
}
