import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { namespaceFor, parseTargets } from '../kinds';
import { OUTPUT_FORMATS, renderStructured, toNames } from '../output/format';
import { renderObjects } from '../output/tables';
import type { KubeObject } from '../../messages';

/**
 * `mk get KIND [NAME...]`: kubectl's table (or -o wide|json|yaml|name). Named objects that do not
 * exist are reported as `Error from server (NotFound)` after the others and make the exit code 1.
 */
export default class Get extends MkCommand {
  static override summary = 'Display one or many objects';
  static override examples = [
    '<%= config.bin %> get pods',
    '<%= config.bin %> get pod demo -o yaml',
    '<%= config.bin %> get pods -A -o wide',
    '<%= config.bin %> get nodes',
  ];
  static override args = {
    kind: Args.string({ description: 'kind: pods (po), nodes (no), namespaces (ns); or KIND/NAME', required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list across all namespaces', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: [...OUTPUT_FORMATS] }),
    selector: Flags.string({ char: 'l', description: 'label selector (a=b, a!=b, a in (x,y), a, !a)' }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
  };

  /** Prints the objects; exit 1 when a named object is missing. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    const { kind, names } = parseTargets(args.kind, args.names ?? []);
    const allNs = flags['all-namespaces'] && kind.namespaced;
    if (allNs && names.length > 0) throw new CliError('a resource cannot be retrieved by name across all namespaces');
    if (flags.selector && names.length > 0) throw new CliError('name cannot be provided when a selector is specified');
    const namespace = allNs ? undefined : namespaceFor(kind, flags.namespace);

    const errors: unknown[] = [];
    let objects: KubeObject[] = [];
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      if (names.length > 0) {
        for (const name of names) {
          try {
            objects.push(await api.get(kind, namespace, name));
          } catch (e) {
            errors.push(e);
          }
        }
      } else {
        objects = (await api.list(kind, namespace, flags.selector)).sort(byNamespaceAndName);
      }
    });

    const output = flags.output;
    if (output === 'json' || output === 'yaml') {
      if (objects.length > 0 || names.length === 0) this.out(renderStructured(output, objects, names.length === 1));
    } else if (objects.length === 0 && names.length === 0) {
      this.err(kind.namespaced && namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    } else if (output === 'name') {
      this.out(toNames(kind, objects));
    } else if (objects.length > 0) {
      this.out(renderObjects(kind, objects, { wide: output === 'wide', withNamespace: allNs, noHeaders: flags['no-headers'] }));
    }
    for (const e of errors) this.printError(e);
    if (errors.length > 0) this.exit(1);
  }
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
}
