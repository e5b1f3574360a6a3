import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { renderTable } from '../output/tabwriter';
import { KINDS } from '../../messages/registry';

/**
 * `mk api-resources`: the kinds this mk serves, as `kubectl api-resources` lists them (NAME,
 * SHORTNAMES, APIVERSION, NAMESPACED, KIND), from the registry the api itself uses. Needs no
 * running cluster.
 */
export default class ApiResources extends MkCommand {
  static override summary = 'Print the kinds of objects mk serves';
  static override examples = ['<%= config.bin %> api-resources', '<%= config.bin %> api-resources --namespaced=false', '<%= config.bin %> api-resources -o name'];
  static override flags = {
    namespaced: Flags.boolean({ description: 'only namespaced kinds (--namespaced=false: only cluster-scoped ones)', allowNo: true }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['wide', 'name'] }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
  };

  /** Prints the table (or names, or a List). */
  async run(): Promise<void> {
    const { flags } = await this.parse(ApiResources);
    const kinds = KINDS.filter((k) => flags.namespaced === undefined || k.namespaced === flags.namespaced)
      .slice().sort((a, b) => a.plural.localeCompare(b.plural));
    const out = flags.output;
    if (out === 'name') {
      this.out(kinds.map((k) => `${k.plural}\n`).join(''));
      return;
    }
    const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(out === 'wide' ? ['VERBS', 'DESCRIPTION'] : [])];
    const rows = kinds.map((k) => [
      k.plural, k.shortNames.join(','), k.apiVersion, String(k.namespaced), k.kind,
      ...(out === 'wide' ? [k.readOnly ? 'get,list,watch' : 'create,delete,get,list,update,watch', k.description] : []),
    ]);
    this.out(renderTable(flags['no-headers'] ? null : header, rows));
  }
}
