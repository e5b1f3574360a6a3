import { Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { kindArg } from '../kinds';
import { renderObjects } from '../output/tables';
import { resolveKind } from '../../messages/registry';

/**
 * `mk events`: kubectl's `events` command, the events of a namespace (or all) oldest first, the
 * same table as `mk get events`; `--for pod/web` keeps those of one object.
 */
export default class Events extends MkCommand {
  static override summary = 'List events';
  static override examples = ['<%= config.bin %> events', '<%= config.bin %> events -A', '<%= config.bin %> events --for pod/web'];
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list across all namespaces', default: false }),
    for: Flags.string({ description: 'only the events of this object: KIND/NAME, e.g. pod/web' }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
  };

  /** Prints the table, or `No events found` on stderr. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Events);
    const namespace = flags['all-namespaces'] ? undefined : flags.namespace || 'default';
    let fieldSelector: string | undefined;
    if (flags.for) {
      const i = flags.for.indexOf('/');
      if (i <= 0 || i === flags.for.length - 1) throw new CliError(`--for must be KIND/NAME, e.g. pod/web (got "${flags.for}")`);
      fieldSelector = `involvedObject.kind=${kindArg(flags.for.slice(0, i)).kind},involvedObject.name=${flags.for.slice(i + 1)}`;
    }
    const kind = resolveKind('events')!;
    const items = await withClient(this.dataDir(flags['data-dir']), ({ api }) => api.list(kind, namespace, undefined, fieldSelector));
    if (items.length === 0) {
      this.err(namespace ? `No events found in ${namespace} namespace.` : 'No events found.');
      return;
    }
    this.out(renderObjects(kind, items, { withNamespace: !namespace, noHeaders: flags['no-headers'] }));
  }
}
