import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { getObjects } from '../get-objects';
import { kindsHelp } from '../kinds';
import { OUTPUT_FORMATS } from '../output/format';

/**
 * `mk get KIND [NAME...]`: kubectl's table (or -o wide|json|yaml|name). Named objects that do not
 * exist are reported as `Error from server (NotFound)` after the others and make the exit code 1.
 * The work is cli/get-objects.ts, which bin/run.js also runs without oclif (cli/fast-path.ts).
 */
export default class Get extends MkCommand {
  static override summary = 'Display one or many objects';
  static override examples = [
    '<%= config.bin %> get pods',
    '<%= config.bin %> get pod demo -o yaml',
    '<%= config.bin %> get pods -A -o wide',
    '<%= config.bin %> get nodes',
    '<%= config.bin %> get events -A',
    '<%= config.bin %> get pods -l app=web --field-selector status.phase=Running',
    '<%= config.bin %> get pods -w -o yaml',
    '<%= config.bin %> get all',
  ];
  static override args = {
    kind: Args.string({ description: `kind: ${kindsHelp()}; all; or KIND/NAME`, required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list across all namespaces', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: [...OUTPUT_FORMATS] }),
    selector: Flags.string({ char: 'l', description: 'label selector (a=b, a!=b, a in (x,y), a, !a)' }),
    'field-selector': Flags.string({ description: 'field selector (metadata.name=x, status.phase!=Running, spec.nodeName=n1), comma-joined' }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
    watch: Flags.boolean({ char: 'w', description: 'after listing, watch for changes and print each one (Ctrl-C to stop)', default: false }),
    'watch-only': Flags.boolean({ description: 'watch for changes without listing first', default: false }),
    'resource-version': Flags.string({ description: 'with -w: print the changes after this resourceVersion (default: the listing\'s)' }),
  };

  /** Prints the objects; exit 1 when a named object is missing. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    const code = await getObjects({ args, flags });
    if (code !== 0) this.exit(code);
  }
}
