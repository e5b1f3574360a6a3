import { Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { getObjects } from '../get-objects';
import { kindArg } from '../kinds';
import { renderStructured } from '../output/format';
import { renderObjects } from '../output/tables';
import { resolveKind } from '../../messages/registry';

/** The event types `--types` takes (kubectl's valid types). */
const EVENT_TYPES = ['Normal', 'Warning'] as const;

/**
 * `mk events`: kubectl's `events` command, the events of a namespace (or all) oldest first, the
 * same table as `mk get events`; `--for pod/web` keeps those of one object, `--types Warning` those
 * of some types, and `-w` goes on printing each new event (and each new count of a repeated one)
 * as `mk get events -w` does, resuming after a lost connection.
 */
export default class Events extends MkCommand {
  static override summary = 'List events';
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events -A',
    '<%= config.bin %> events --for pod/web',
    '<%= config.bin %> events --types Warning -w',
    '<%= config.bin %> events -o yaml',
  ];
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list across all namespaces', default: false }),
    for: Flags.string({ description: 'only the events of this object: KIND/NAME, e.g. pod/web' }),
    types: Flags.string({ description: 'only events of these types, comma-separated: Normal, Warning' }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
    watch: Flags.boolean({ char: 'w', description: 'after listing, print each new event (Ctrl-C to stop)', default: false }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
  };

  /** Prints the table (or -o json|yaml), or `No events found` on stderr; with -w, until stopped. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Events);
    const namespace = flags['all-namespaces'] ? undefined : flags.namespace || 'default';
    const terms: string[] = [];
    if (flags.for) {
      const i = flags.for.indexOf('/');
      if (i <= 0 || i === flags.for.length - 1) throw new CliError(`--for must be KIND/NAME, e.g. pod/web (got "${flags.for}")`);
      terms.push(`involvedObject.kind=${kindArg(flags.for.slice(0, i)).kind}`, `involvedObject.name=${flags.for.slice(i + 1)}`);
    }
    if (flags.types !== undefined) {
      const types = new Set<string>();
      for (const t of flags.types.split(',').map((x) => x.trim())) {
        const known = EVENT_TYPES.find((k) => k.toLowerCase() === t.toLowerCase());
        if (!known) throw new CliError(`--types: "${t}" is not an event type (valid --types are ${EVENT_TYPES.join(' or ')})`);
        types.add(known);
      }
      // Both types are every event; one is a field of its own.
      if (types.size === 1) terms.push(`type=${[...types][0]}`);
    }
    const fieldSelector = terms.length > 0 ? terms.join(',') : undefined;
    if (flags.watch) {
      const code = await getObjects({
        args: { kind: 'events' },
        flags: {
          'data-dir': flags['data-dir'], ...(namespace ? { namespace } : { 'all-namespaces': true }),
          output: flags.output, 'field-selector': fieldSelector, 'no-headers': flags['no-headers'], watch: true,
        },
      });
      if (code !== 0) this.exit(code);
      return;
    }
    const kind = resolveKind('events')!;
    const items = await withClient(this.dataDir(flags['data-dir']), ({ api }) => api.list(kind, namespace, undefined, fieldSelector));
    if (flags.output === 'json' || flags.output === 'yaml') {
      this.out(renderStructured(flags.output, items, false));
      return;
    }
    if (items.length === 0) {
      this.err(namespace ? `No events found in ${namespace} namespace.` : 'No events found.');
      return;
    }
    this.out(renderObjects(kind, items, { withNamespace: !namespace, noHeaders: flags['no-headers'] }));
  }
}
